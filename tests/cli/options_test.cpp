// Option parsing: the fixed names, their checks and one-line errors.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "options.hpp"

using namespace pexec::cli;

namespace {
std::optional<Options> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "pexec");
  return parse_options(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST_CASE("a command, its arguments and ::: items are separated from pexec's options") {
  auto o = parse({"-j", "5", "--mode=process", "gzip", "-k", "file{}", "-j", "9", ":::", "a", "-b"});
  REQUIRE(o);
  CHECK(o->jobs.workers(1) == 5);
  CHECK(o->mode == Mode::process);
  CHECK(o->command == std::vector<std::string>{"gzip", "-k", "file{}", "-j", "9"});
  CHECK(o->command_template().text() == "gzip -k file{} -j 9");
  REQUIRE(o->sources.size() == 1);
  CHECK(*o->sources[0].items == std::vector<std::string>{"a", "-b"});
  auto dashed = parse({"-k", "--", "echo", "x"});
  CHECK(dashed->command == std::vector<std::string>{"echo", "x"});
  CHECK(dashed->keep_order);
}

TEST_CASE("defaults") {
  auto o = parse({});
  REQUIRE(o);
  CHECK(o->mode == Mode::thread);
  CHECK_FALSE(o->jobs.given());
  CHECK(o->halt.when == Halt::When::never);
  CHECK(o->retries == 1);
  CHECK(o->grace == 1.0);
  CHECK(o->format == OutputFormat::text);
  CHECK(o->command.empty());
  REQUIRE(o->sources.size() == 1);  // standard input
  CHECK(o->sources[0].path == "-");
  CHECK(o->delimiter == "\n");
}

TEST_CASE("--return-when takes pexec's and Python's spellings in any case") {
  CHECK(parse({"-w", "first-completed"})->halt == Halt::parse("now,done=1"));
  CHECK(parse({"--return-when", "FIRST_EXCEPTION"})->halt == Halt::parse("now,fail=1"));
  CHECK(parse({"-w", "All_Completed"})->halt == Halt{});
  CHECK(parse({"-w", "all"})->halt == Halt{});
  CHECK(parse({"-w", "first-exception", "--let-running-finish"})->halt == Halt::parse("soon,fail=1"));
  CHECK_THROWS_WITH_AS(parse({"-w", "all", "--halt", "now,fail=1"}), "give --halt or -w/--return-when, not both",
                       UsageError);
  CHECK_THROWS_WITH_AS(parse({"-w", "sometimes"}), doctest::Contains("--return-when"), UsageError);
}

TEST_CASE("values are checked at the edge") {
  CHECK_THROWS_WITH_AS(parse({"-j", "many"}), doctest::Contains("is not N, 0, +N, -N, N% or an existing FILE"),
                       UsageError);
  CHECK_THROWS_WITH_AS(parse({"--timeout", "abc"}), doctest::Contains("not a number of seconds"), UsageError);
  CHECK_THROWS_WITH_AS(parse({"--timeout", "-1"}), doctest::Contains("more than 0 seconds"), UsageError);
  CHECK_THROWS_AS(parse({"--deadline", "0"}), UsageError);
  CHECK(parse({"--grace", "0"})->grace == 0);
  CHECK_THROWS_AS(parse({"--mode", "fiber"}), UsageError);
  CHECK_THROWS_AS(parse({"--format", "xml"}), UsageError);
  CHECK_THROWS_AS(parse({"--no-such-option"}), UsageError);
  CHECK_THROWS_WITH_AS(parse({"--max-tasks-per-child", "2"}), "--max-tasks-per-child needs --mode process", UsageError);
  CHECK(*parse({"--mode", "PROCESS", "--max-tasks-per-child", "2"})->max_tasks_per_child == 2);
}

TEST_CASE("the last of a repeated option wins") {
  CHECK(parse({"-j", "2", "--jobs", "7"})->jobs.workers(1) == 7);
  CHECK(*parse({"-t", "1", "-t", "2.5"})->timeout == 2.5);
}

TEST_CASE("-a takes one file, the next word starts the command") {
  auto o = parse({"-a", "list.txt", "gzip", "{}"});
  REQUIRE(o->sources.size() == 1);
  CHECK(o->sources[0].path == "list.txt");
  CHECK(o->command == std::vector<std::string>{"gzip", "{}"});
}

TEST_CASE("repeatable arg files, flags") {
  auto o =
      parse({"-a", "x", "--arg-file", "-", "-0", "--tag", "--dry-run", "--let-running-finish", "--format", "jsonl"});
  REQUIRE(o->sources.size() == 2);
  CHECK(o->sources[0].path == "x");
  CHECK(o->sources[1].path == "-");
  CHECK(o->delimiter == std::string(1, '\0'));
  CHECK(o->tag);
  CHECK(o->dry_run);
  CHECK(o->let_running_finish);
  CHECK(o->format == OutputFormat::jsonl);
}

TEST_CASE("input sources: -a files first, then ::: and :::: in order, linked ones marked") {
  auto o = parse({"-a", "f", "echo", ":::", "A", "B", ":::+", "1", "2", "::::", "g", "h", "::::+", "i"});
  REQUIRE(o);
  REQUIRE(o->sources.size() == 6);
  CHECK(o->sources[0].path == "f");
  CHECK(*o->sources[1].items == std::vector<std::string>{"A", "B"});
  CHECK(*o->sources[2].items == std::vector<std::string>{"1", "2"});
  CHECK(o->sources[2].linked);
  CHECK(o->sources[3].path == "g");
  CHECK(o->sources[4].path == "h");
  CHECK_FALSE(o->sources[4].linked);
  CHECK(o->sources[5].linked);
  CHECK(o->command == std::vector<std::string>{"echo"});
  CHECK(parse({"echo", ":::"})->sources[0].items->empty());
  CHECK_THROWS_WITH_AS(parse({"echo", ":::+", "a"}), doctest::Contains("there is none"), UsageError);
  CHECK_THROWS_WITH_AS(parse({"-a", "-", "echo", "::::", "-"}), doctest::Contains("standard input"), UsageError);
}

TEST_CASE("delimiters, columns and items per job") {
  CHECK(parse({"-d", "\\t"})->delimiter == "\t");
  CHECK(parse({"-d", "\\x41;\\0"})->delimiter == std::string("A;\0", 3));
  CHECK_THROWS_WITH_AS(parse({"-0", "-d", ","}), "give -0 or -d, not both", UsageError);
  auto columns = parse({"--colsep", ",", "--trim", "rl", "--col-header", ":", "-r"});
  CHECK(columns->input.column_separator == ",");
  CHECK(*columns->input.trim == Trim::both);
  CHECK(columns->template_settings.column_names);
  CHECK(columns->input.skip_blank);
  CHECK_THROWS_WITH_AS(parse({"--trim", "x"}), doctest::Contains("--trim"), UsageError);
  CHECK_THROWS_WITH_AS(parse({"--col-header", "1"}), doctest::Contains("--col-header"), UsageError);
  CHECK(*parse({"-n", "3"})->input.max_args == 3);
  auto none = parse({"-N", "0"});
  CHECK(none->input.no_arguments);
  auto x = parse({"-X"});
  CHECK(x->input.fill_line);
  CHECK(x->template_settings.context_replace);
  auto xargs = parse({"--xargs", "-s", "100"});
  CHECK(xargs->input.fill_line);
  CHECK_FALSE(xargs->template_settings.context_replace);
  CHECK(xargs->input.max_chars == 100);
  auto lines = parse({"-L", "2"});
  CHECK(lines->input.max_lines == 2);
  CHECK(lines->template_settings.context_replace);
  CHECK_THROWS_AS(parse({"-n", "2", "-N", "2"}), UsageError);
  CHECK_THROWS_AS(parse({"-X", "--xargs"}), UsageError);
}

TEST_CASE("GNU parallel's and xargs's options that pexec lacks are refused with pexec's spelling") {
  CHECK_THROWS_WITH_AS(parse({"--tmux", "echo"}), "--tmux is not supported yet", UsageError);
  CHECK_THROWS_WITH_AS(parse({"--pipe", "wc"}), doctest::Contains("not on standard input"), UsageError);
  CHECK_THROWS_WITH_AS(parse({"-I", "{}", "echo"}), doctest::Contains("use {}"), UsageError);
  CHECK(parse({"--xapply"})->input.link_all);  // GNU parallel's old name of --link
  CHECK_THROWS_WITH_AS(parse({"-m", "echo"}), doctest::Contains("GNU parallel's -m is --xargs"), UsageError);
  CHECK_THROWS_WITH_AS(parse({"--return", "x", "echo"}), doctest::Contains("applies to -S/--sshlogin hosts only"), UsageError);
  CHECK_THROWS_WITH_AS(parse({"--header", ":", "echo"}), doctest::Contains("--col-header"), UsageError);
  CHECK_THROWS_WITH_AS(parse({"echo", "{= s/a/b/ =}"}), doctest::Contains("not supported"), UsageError);
  CHECK(parse({"-P", "3", "--will-cite"})->jobs.workers(1) == 3);
  // Only a word that names a program gets the hint about --.
  CHECK_THROWS_WITH_AS(parse({"--no-such-option"}), "unknown option --no-such-option (see pexec --help)", UsageError);
  std::string dir = "/tmp/pexec-options-" + std::to_string(::getpid());
  REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
  std::string program = dir + "/-zap";
  std::ofstream(program) << "#!/bin/sh\n";
  REQUIRE(::chmod(program.c_str(), 0700) == 0);
  std::string path = std::getenv("PATH");
  ::setenv("PATH", (dir + ":" + path).c_str(), 1);
  CHECK_THROWS_WITH_AS(parse({"-zap"}), "unknown option -zap (put -- before a command that starts with -)", UsageError);
  ::setenv("PATH", path.c_str(), 1);
  std::remove(program.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("-S logins: [N/][user@]host[:port] and :, comma-separated and repeatable, each checked") {
  CHECK_THROWS_WITH_AS(parse({"-S", "2/"}), "-S/--sshlogin: '2/' names no host", UsageError);
  CHECK_THROWS_WITH_AS(parse({"-S", "u:pw@h"}), doctest::Contains("a password (not supported"), UsageError);
  CHECK_THROWS_WITH_AS(parse({"-S", "h:99999"}), "-S/--sshlogin: 'h:99999' has no valid port after :", UsageError);
  CHECK_THROWS_WITH_AS(parse({"-S", "h", "-j", "+1"}), doctest::Contains("-j with -S: give a number"), UsageError);
  CHECK_THROWS_WITH_AS(parse({"--ssh", "ssh -v", "echo"}), "--ssh applies to -S/--sshlogin hosts only", UsageError);
  CHECK_THROWS_WITH_AS(parse({"-S", "h", "--env", "PEXEC_SURELY_UNSET_VARIABLE"}),
                       "--env: PEXEC_SURELY_UNSET_VARIABLE is not set here", UsageError);
  auto remote = parse({"-S", "2/u@h1:2222,:", "-S", "h2", "-S", "h1"});
  REQUIRE(remote->sshlogins.size() == 4);
  CHECK(remote->sshlogins[0].slots == 2);
  CHECK(remote->sshlogins[0].destination() == "u@h1");
  CHECK(remote->sshlogins[0].port == 2222);
  CHECK(remote->sshlogins[0].text == "u@h1:2222");
  CHECK(remote->sshlogins[1].local());
  CHECK(remote->sshlogins[2].host == "h2");
  CHECK(remote->sshlogins[3].host == "h1");  // another login than u@h1:2222
}

TEST_CASE("--halt: GNU parallel's forms, and a clear refusal of anything else") {
  CHECK(parse({"--halt", "now,fail=1"})->halt == Halt{Halt::When::now, Halt::Why::fail, 1, {}});
  CHECK(parse({"--halt", "soon,success=3"})->halt == Halt{Halt::When::soon, Halt::Why::success, 3, {}});
  CHECK(parse({"--halt-on-error", "now,done=20%"})->halt == Halt{Halt::When::now, Halt::Why::done, 1, 20.0});
  CHECK(parse({"--halt", "2"})->halt == Halt::parse("now,fail=1"));
  CHECK(parse({"--halt", "1"})->halt == Halt::parse("soon,fail=1"));
  CHECK(parse({"--halt", "-2"})->halt == Halt::parse("now,success=1"));
  CHECK(parse({"--halt", "10%"})->halt == Halt::parse("soon,fail=10%"));
  CHECK(parse({"--halt", "never"})->halt == Halt{});
  for (const char* bad : {"later,fail=1", "now,crash=1", "now,fail=0", "now,fail=x", "now,fail=150%", "now", "3"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(parse({"--halt", bad}), doctest::Contains("--halt: '"), UsageError);
  }
}

TEST_CASE("--halt trips on counts, and on percentages once 3 jobs are done") {
  Halt two_failures = Halt::parse("soon,fail=2");
  CHECK_FALSE(two_failures.tripped({5, 1, 4}));
  CHECK(two_failures.tripped({3, 2, 1}));
  Halt half = Halt::parse("now,fail=50%");
  CHECK_FALSE(half.tripped({1, 1, 0}));  // 100 %, but only one job done
  CHECK_FALSE(half.tripped({2, 2, 0}));
  CHECK(half.tripped({3, 2, 1}));
  CHECK_FALSE(half.tripped({4, 1, 3}));
  Halt first_success = Halt::parse("now,success=1");
  CHECK(first_success.tripped({1, 0, 1}));
  CHECK_FALSE(Halt{}.tripped({100, 100, 0}));
}

TEST_CASE("--halt's exit status: the triggering job's with N = 1, as GNU parallel") {
  JobResult exited;
  exited.status = JobStatus::failed;
  exited.exit_code = 7;
  JobResult signalled;
  signalled.status = JobStatus::failed;
  signalled.signal = 9;
  JobResult timed_out;
  timed_out.status = JobStatus::timeout;
  JobResult ok;
  ok.status = JobStatus::ok;
  ok.exit_code = 0;
  Halt first_failure = Halt::parse("now,fail=1");
  CHECK(first_failure.exit_status(exited, true) == 7);
  CHECK(first_failure.exit_status(signalled, true) == 137);
  CHECK(first_failure.exit_status(timed_out, true) == 1);
  CHECK(Halt::parse("now,done=1").exit_status(ok, false) == 0);
  CHECK(Halt::parse("soon,fail=3").exit_status(exited, true) == 1);
  CHECK(Halt::parse("now,success=1").exit_status(ok, true) == 0);
}

TEST_CASE("joblog, resume, retries and report files: checked before anything runs") {
  CHECK_THROWS_WITH_AS(parse({"--resume"}), "--resume reads the joblog: give --joblog FILE", UsageError);
  CHECK_THROWS_WITH_AS(parse({"--retry-failed"}), "--retry-failed reads the joblog: give --joblog FILE", UsageError);
  CHECK_THROWS_WITH_AS(parse({"--resume", "--resume-failed", "--joblog", "x"}),
                       "give one of --resume, --resume-failed, --retry-failed", UsageError);
  CHECK_THROWS_WITH_AS(parse({"--joblog", "-"}), doctest::Contains("give a FILE"), UsageError);
  CHECK_THROWS_WITH_AS(parse({"--results", "out"}), doctest::Contains("give FILE.jsonl"), UsageError);
  CHECK(parse({"--results", "out.jsonl"})->jsonl_file == "out.jsonl");
  auto retry_failed = parse({"--joblog", "x", "--retry-failed", "echo", ":::", "a"});
  CHECK(retry_failed->command.empty());  // the joblog's commands run, as in GNU parallel
  CHECK(retry_failed->resume == Resume::failed_only);
  CHECK(parse({"--retries", "0"})->retries == 1);                   // GNU parallel: 0 and 1 both mean one run
  CHECK(parse({"--retries", "3", ":::", "echo a"})->retries == 3);  // shell jobs too
  CHECK(parse({"--tagstring", "{1}:"})->tag);
  CHECK_THROWS_AS(parse({"--retry-delay", "-1"}), UsageError);
  CHECK_THROWS_AS(parse({"--delay", "x"}), UsageError);
}

TEST_CASE("URL options given to a run of shell jobs only are refused") {
  CHECK_THROWS_WITH_AS(parse({"--method", "HEAD", "echo"}),
                       "--method applies to URL jobs only, and a COMMAND makes every job a shell job", UsageError);
  CHECK_THROWS_WITH_AS(parse({"--kind", "url", "-n", "2"}), doctest::Contains("one item"), UsageError);
  CHECK_THROWS_WITH_AS(parse({"--output-dir", "/tmp", ":::", "echo a"}), doctest::Contains("no ::: item is a URL"),
                       UsageError);
  CHECK_THROWS_WITH_AS(parse({"-t", "200%"}), doctest::Contains("percentage"), UsageError);
}
