/* The floor for the shell-job benchmark: posix_spawn each line of stdin, at most N at once,
   and wait for them; nothing else (no output capture, no reporting).
   usage: spawn_floor N [COMMAND...]   with COMMAND, the line is appended as its last argument;
   without, each line runs as /bin/sh -c LINE. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int limit = atoi(argv[1]), running = 0, failed = 0;
  char* line = NULL;
  size_t cap = 0;
  ssize_t n;
  char* args[64];
  while ((n = getline(&line, &cap, stdin)) > 0) {
    if (line[n - 1] == '\n') line[n - 1] = '\0';
    int k = 0;
    if (argc > 2) {
      for (int i = 2; i < argc && k < 62; ++i) args[k++] = argv[i];
    } else {
      args[k++] = "/bin/sh";
      args[k++] = "-c";
    }
    args[k++] = line;
    args[k] = NULL;
    if (running == limit) {
      int status;
      if (wait(&status) > 0 && status != 0) failed = 1;
      --running;
    }
    pid_t pid;
    if (posix_spawnp(&pid, args[0], NULL, NULL, args, environ) != 0) return 1;
    ++running;
  }
  int status;
  while (running-- > 0)
    if (wait(&status) > 0 && status != 0) failed = 1;
  free(line);
  return failed;
}
