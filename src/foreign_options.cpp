#include "foreign_options.hpp"

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <string_view>

namespace pexec::cli {

namespace {

struct ForeignOption {
  std::string_view names;    // space-separated spellings, as GNU parallel, xargs, curl or wget2 take them
  std::string_view instead;  // pexec's spelling, or why there is none
};

constexpr std::string_view kNotYet = "is not supported yet";
constexpr std::string_view kPipe = "is not supported: pexec passes items as arguments, not on standard input";

// GNU parallel's and xargs's options that pexec lacks or spells differently. Options pexec
// takes under the same name (-j -k -n -N -X -L -s -r -q -d -0 -a --colsep --trim --link --tag
// --tagstring --ctag --ctagstring --dry-run --shellquote --timeout --halt --joblog --resume --resume-failed
// --retry-failed --retries --delay --results --bar --progress --eta --total-jobs --line-buffer -u
// --color) are not here. Then curl's and wget2's options for URL lists that pexec spells
// differently (README's table for curl and wget2 users).
constexpr std::array<ForeignOption, 36> kForeignOptions = {{
    {"--group", "is not needed: pexec groups each job's output by default"},
    {"--plus --rpl --res --files --compress --tmpdir --tmux", kNotYet},
    {"--sshdelay", "is --ssh-delay in pexec"},
    {"--pipe --spreadstdin --pipepart --block --block-size --recstart --recend --cat --fifo", kPipe},
    {"--roundrobin --round-robin --regexp --remove-rec-sep", kPipe},
    {"--semaphore --sem --fg --bg --load --memfree --memsuspend --noswap --nice --limit", kNotYet},
    {"-I -i --replace -E -e --eof --extensionreplace --er --basenamereplace --bnr --dirnamereplace --dnr",
     "is not supported: use {} and its forms {.} {/} {//} {/.} (see pexec(1))"},
    {"--basenameextensionreplace --bner --seqreplace --slotreplace --I --U --arg-sep --arg-file-sep",
     "is not supported: use {} and its forms, {#} and {%} (see pexec(1))"},
    {"-v --verbose", "is not supported: --dry-run prints the commands, --format jsonl reports each one"},
    {"-m", "is --xargs in pexec (-m is --mode)"},
    {"-P --max-procs", "is -j in pexec"},
    {"--csv --shuf --tty --open-tty -o --keep-order-line --shebang --shebang-wrap --sqlmaster --sqlworker "
     "--sqlandworker",
     kNotYet},
    {"--termseq --timeout-percent", kNotYet},
    {"-p --interactive", "is not supported: pexec never asks before running a job"},
    {"-x --exit", "is not supported: a job whose line is too long fails with status error"},
    {"--process-slot-var", "is not supported: jobs get PARALLEL_JOBSLOT (and {%})"},
    {"--max-line-length-allowed --number-of-cpus --number-of-cores --number-of-sockets --number-of-threads",
     "is not supported: see nproc(1)"},
    {"--use-cores-instead-of-threads --use-sockets-instead-of-threads --use-cpus-instead-of-cores", kNotYet},
    {"--citation --bibtex --minversion --record-env --session --env-parallel", "is not supported (GNU parallel only)"},
    {"--no-notice --tollef --gnu", "is not supported (GNU parallel only)"},
    {"--max-replace-args", "is -N in pexec"},
    {"--retry", "is --retries N+1 in pexec (the runs in all)"},
    {"--max-redirs", "is --max-redirects in pexec"},
    {"--max-filesize", "is --max-bytes in pexec"},
    {"--request", "is --method METHOD in pexec"},
    {"--head", "is --method HEAD in pexec"},
    {"--data-binary --data-raw --data-ascii --data-urlencode",
     "is not supported: --data sends its text as it is, --data-file FILE the bytes of FILE"},
    {"--limit-rate", "is not supported: --rate limits job starts, --max-per-host transfers to one host"},
    {"--parallel --parallel-max --max-threads", "is -j in pexec (URL jobs always run in parallel)"},
    {"--remote-name --remote-name-all --remote-header-name", "is --output-dir DIR or -O TEMPLATE in pexec"},
    {"--ca-certificate", "is --cacert in pexec"},
    {"--no-check-certificate", "is --insecure in pexec"},
    {"--http2 --http2-prior-knowledge", "is not needed: HTTP/2 is used over https where the server offers it"},
}};

}  // namespace

std::optional<std::string> foreign_option_message(const std::string& word) {
  std::string_view name = word;
  name = name.substr(0, name.find('='));
  for (const ForeignOption& option : kForeignOptions) {
    std::string_view names = option.names;
    while (!names.empty()) {
      std::size_t space = names.find(' ');
      if (names.substr(0, space) == name) return std::string(name) + " " + std::string(option.instead);
      names = space == std::string_view::npos ? std::string_view() : names.substr(space + 1);
    }
  }
  return std::nullopt;
}

bool looks_like_command(const std::string& word) {
  if (word.find('/') != std::string::npos) return ::access(word.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/bin:/bin";
  while (true) {
    std::size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (::access(((dir.empty() ? "." : dir) + "/" + word).c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) return false;
    dirs.remove_prefix(colon + 1);
  }
}

}  // namespace pexec::cli
