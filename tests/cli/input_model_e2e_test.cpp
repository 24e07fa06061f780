// The input model from the command line: each construct's output as GNU parallel's manual and
// tutorial document it (written down from them, not from pexec), checked against pexec and,
// where GNU parallel is installed, against parallel itself; the idioms pexec refuses.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "pexec_process.hpp"

namespace {

using Args = std::vector<std::string>;

struct Documented {
  Args pexec;            // pexec's spelling
  Args gnu;              // GNU parallel's, when it differs (empty: the same)
  std::string input;     // standard input
  std::string expected;  // standard output, as documented
};

/// Runs GNU parallel with `args` (--will-cite added), if it is installed.
std::optional<PexecRun> run_gnu_parallel(const Args& args, const std::string& input) {
  if (std::system("command -v parallel > /dev/null 2>&1") != 0) return std::nullopt;
  std::string in_path = "/tmp/pexec-gnu-in-" + std::to_string(getpid());
  std::ofstream(in_path) << input;
  std::string command = "parallel --will-cite";
  for (const std::string& arg : args) {
    std::string quoted = "'";
    for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    command += " " + quoted + "'";
  }
  command += " < " + in_path;
  PexecRun run{"", "", 0};
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  char buffer[4096];
  while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) run.out.append(buffer, n);
  run.status = WEXITSTATUS(pclose(pipe));
  std::remove(in_path.c_str());
  return run;
}

std::string temp_file(const std::string& name, const std::string& content) {
  std::string path = "/tmp/pexec-input-" + std::to_string(getpid()) + "-" + name;
  std::ofstream(path) << content;
  return path;
}

const std::string kSeq10 = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";

}  // namespace

TEST_CASE("every construct gives what GNU parallel's documentation shows, in pexec and in parallel") {
  std::string abc = temp_file("abc", "x\ny\n");
  std::string table = temp_file("table", "n1\tn2\nA\tB\nC\tD\n");
  const std::vector<Documented> cases = {
      {{"-k", "echo", ":::", "A", "B", ":::", "1", "2"}, {}, "", "A 1\nA 2\nB 1\nB 2\n"},
      {{"-k", "--link", "echo", ":::", "A", "B", "C", ":::", "1", "2", "3"}, {}, "", "A 1\nB 2\nC 3\n"},
      {{"-k", "--link", "echo", ":::", "A", "B", "C", ":::", "1", "2"}, {}, "", "A 1\nB 2\nC 1\n"},
      {{"-k", "echo", ":::", "A", "B", "C", ":::+", "1", "2", "3"}, {}, "", "A 1\nB 2\nC 3\n"},
      {{"-k", "echo", "{2}", "{1}", ":::", "A", "B", ":::", "1", "2"}, {}, "", "1 A\n2 A\n1 B\n2 B\n"},
      {{"-k", "echo", "{-1}", "{1.}", "{1/}", "{1//}", "{1/.}", ":::", "dir/a.tar.gz", ":::", "last"},
       {},
       "",
       "last dir/a.tar a.tar.gz dir a.tar\n"},
      {{"-k", "--colsep", "\\t", "echo", "{2}", "{1}"}, {}, "a\tb\nc\td\n", "b a\nd c\n"},
      {{"-k", "--col-header", ":", "--colsep", "\\t", "echo", "{n2}", "{n1}", "::::", table},
       {"-k", "--header", ":", "--colsep", "\\t", "echo", "{n2}", "{n1}", "::::", table},
       "",
       "B A\nD C\n"},
      {{"-k", "-n", "2", "echo"}, {}, kSeq10, "1 2\n3 4\n5 6\n7 8\n9 10\n"},
      {{"-k", "-N", "3", "echo", "{1}-{2}-{3}", ":::", "a", "b", "c", "d"}, {}, "", "a-b-c\nd--\n"},
      {{"-j", "1", "-k", "-X", "echo"}, {}, kSeq10, "1 2 3 4 5 6 7 8 9 10\n"},
      {{"-j", "4", "-k", "--xargs", "echo", ":::", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"},
       {"-j", "4", "-k", "-m", "echo", ":::", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"},
       "",
       "1 2 3\n4 5 6\n7 8 9\n10\n"},
      {{"-j", "4", "-k", "-X", "echo", "pre-{}-post", ":::", "A", "B", "C", "D", "E", "F", "G"},
       {},
       "",
       "pre-A-post pre-B-post\npre-C-post pre-D-post\npre-E-post pre-F-post\npre-G-post\n"},
      {{"-k", "-L", "2", "echo"}, {}, "a b\nc\nd\n", "a b c\nd\n"},
      {{"-k", "-a", abc, "echo", ":::", "1", "2"}, {}, "", "x 1\nx 2\ny 1\ny 2\n"},
      {{"-k", "echo", ":::", "1", "2", "::::", abc}, {}, "", "1 x\n1 y\n2 x\n2 y\n"},
      {{"-k", "echo", ":::", "1", "2", "::::+", abc}, {}, "", "1 x\n2 y\n"},
      {{"-k", "-d", ":", "echo"}, {}, "a:b:c", "a\nb\nc\n"},
      {{"-k", "-r", "echo", "X{}X"}, {}, "a\n \nb\n", "XaX\nXbX\n"},
      {{"-k", "-q", "printf", "%s;\\n", ":::", "a", "b"}, {}, "", "a;\nb;\n"},
      {{"-k", "--shellquote", ":::", "a b"}, {}, "", "'a b'\n"},
      {{"-k", "--tag", "echo", ":::", "A", "B", ":::", "1"}, {}, "", "A 1\tA 1\nB 1\tB 1\n"},
      {{"-k", "-j", "2", "echo $PARALLEL_SEQ", ":::", "a", "b"}, {}, "", "1 a\n2 b\n"},
  };
  for (const Documented& c : cases) {
    CAPTURE(c.pexec);
    PexecRun run = run_pexec(c.pexec, c.input);
    CAPTURE(run.err);
    CHECK(run.status == 0);
    CHECK(run.out == c.expected);
    if (auto gnu = run_gnu_parallel(c.gnu.empty() ? c.pexec : c.gnu, c.input)) {
      if (c.pexec[1] == "--shellquote") continue;  // GNU quotes differently, as validly
      CAPTURE(gnu->out);
      CHECK(gnu->out == c.expected);
    } else {
      MESSAGE("skipped: GNU parallel is not installed, only pexec was checked");
    }
  }
  std::remove(abc.c_str());
  std::remove(table.c_str());
}

TEST_CASE("--dry-run shows each construct's command lines") {
  CHECK(run_pexec({"--dry-run", "-q", "echo", "a;b", "{}c", ":::", "x y"}).out == "echo 'a;b' 'x yc'\n");
  CHECK(run_pexec({"--dry-run", "-j", "1", "-X", "echo", "\"a{}b\"", ":::", "x y", "$z"}).out ==
        "echo \"ax yb\" \"a\\$zb\"\n");
  CHECK(run_pexec({"--dry-run", "-j", "3", "echo", "{#}/{%}", ":::", "a", "b", "c", "d"}).out ==
        "echo 1/1\necho 2/2\necho 3/3\necho 4/1\n");
  CHECK(run_pexec({"--dry-run", "--colsep", ","}, "echo a,b\r\n# not a comment\n").out ==
        "echo a b\n# not a comment\n");
  CHECK(run_pexec({"--dry-run"}, "  http://127.0.0.1:9/x  \n").out == "GET http://127.0.0.1:9/x\n");
}

TEST_CASE("each refused idiom exits 2 with its one-line message, and runs nothing") {
  std::remove("/tmp/pexec-refused-ran");
  const std::vector<std::pair<Args, std::string>> refused = {
      {{"--halt", "now,crash=1"}, "pexec: --halt: 'now,crash=1': WHY is fail, success or done, not 'crash'\n"},
      {{"--tmux"}, "pexec: --tmux is not supported yet\n"},
      {{"-m"}, "pexec: --mode: 'touch' is not thread or process (GNU parallel's -m is --xargs here)\n"},
      {{"--pipe"}, "pexec: --pipe is not supported: pexec passes items as arguments, not on standard input\n"},
      {{"--transfer"}, "pexec: --transfer applies to -S/--sshlogin hosts only\n"},
      {{"--nonall"}, "pexec: --nonall applies to -S/--sshlogin hosts only\n"},
      {{"--header", ":"},
       "pexec: --header: ':' is not 'Name: value' (an HTTP header; GNU parallel's --header is --col-header here)\n"},
      {{"--method", "HEAD"}, "pexec: --method applies to URL jobs only, and a COMMAND makes every job a shell job\n"},
      {{"-j", "lots"}, "pexec: --jobs: 'lots' is not N, 0, +N, -N, N% or an existing FILE\n"},
      {{"--nosuchoption"}, "pexec: unknown option --nosuchoption (see pexec --help)\n"},
  };
  for (const auto& [options, message] : refused) {
    Args args = options;
    for (const char* word : {"touch", "/tmp/pexec-refused-ran", ":::", "a"}) args.push_back(word);
    if (options.front() == "-m") args = {"-m", "touch", "/tmp/pexec-refused-ran", ":::", "a"};
    CAPTURE(args);
    PexecRun run = run_pexec(args);
    CHECK(run.status == 2);
    CHECK(run.err == message);
  }
  CHECK(access("/tmp/pexec-refused-ran", F_OK) != 0);
  PexecRun perl = run_pexec({"echo", "{= s/a/b/ =}", ":::", "a"});
  CHECK(perl.status == 2);
  CHECK(perl.err == "pexec: perl expressions ({= ... =}) are not supported: use {} and its forms (see pexec(1))\n");
}

TEST_CASE("pexec's own spellings: -s bounds the line, -P is -j, --will-cite and --xapply are accepted") {
  // "echo aaaa bbbb" is 14 bytes: a third item would pass 16.
  CHECK(run_pexec({"-j", "1", "-k", "-s", "16", "-X", "echo", ":::", "aaaa", "bbbb", "cccc"}).out ==
        "aaaa bbbb\ncccc\n");
  CHECK(run_pexec({"-P", "1", "--will-cite", "-k", "echo", "{%}", ":::", "a", "b"}).out == "1\n1\n");
  CHECK(run_pexec({"-k", "--xapply", "--trim", "r", "--colsep", ",", "echo", "[{1}]", "{2}", "{3}", ":::", " a ,b",
                   ":::", "1"})
            .out == "[ a] b 1\n");
}

TEST_CASE("-j forms: 0, +N, N%, and a FILE read again as jobs finish") {
  CHECK(run_pexec({"-j", "0", "-k", "echo", ":::", "a", "b"}).out == "a\nb\n");
  CHECK(run_pexec({"-j", "+1", "-k", "echo", ":::", "a"}).out == "a\n");
  CHECK(run_pexec({"-j", "50%", "-k", "echo", ":::", "a"}).out == "a\n");
  // With 1 in the file the jobs run one at a time: each sees no other running.
  std::string jobs = temp_file("jobs", "1\n");
  std::string marker = "/tmp/pexec-jobfile-" + std::to_string(getpid());
  std::string job = "if [ -e " + marker + " ]; then echo overlap; fi; touch " + marker + "; sleep 0.05; rm " + marker;
  PexecRun one = run_pexec({"-j", jobs, "--tag", ":::", job, job, job, job});
  CHECK(one.status == 0);
  CHECK(one.out.find("overlap") == std::string::npos);
  // Raised to 4 while running (after the first job): the {%} slots show more than one in use.
  std::ofstream(jobs) << "4\n";
  PexecRun four = run_pexec({"-j", jobs, "-k", "sh", "-c", "sleep 0.3; echo {%}", ":::", "1", "2", "3", "4", "5"});
  CHECK(four.out.find('4') != std::string::npos);
  std::remove(jobs.c_str());
}
