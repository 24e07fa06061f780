# bash completion for pexec(1): options, their values, files where a file is wanted, and the
# command to run. Installed as share/bash-completion/completions/pexec.

_pexec() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local options='-0 -C -H -L -M -N -O -P -S -X -a -d -h -j -k -m -n -q -r -s -t -u -w
    --arg-file --bar --basefile --bf --cacert --cert --cleanup --col-header --color --colour --colsep --connect-timeout --ctag --ctagstring
    --controlmaster --create-dirs --data --data-file --deadline --delay --delimiter --dry-run --env --eta --filter-hosts --force-progress --format --grace --halt
    --halt-on-error --header --help --http1.1 --insecure --joblog --jobs --json --jsonl-file --junit --keep-order --key --kind --lb
    --let-running-finish --line-buffer --link --max-args --max-bytes --max-chars --max-lines
    --max-per-host --max-procs --max-redirects --max-replace-args --max-tasks-per-child --method --mode
    --no-controlmaster --no-run-if-empty --no-summary --nonall --null --onall --output --output-dir --progress --quote --rate --results --resume
    --resume-failed --retries --retry-delay --retry-failed --return --return-when --shellquote --skip-existing --slf --ssh
    --slurm --ssh-delay --sshlogin --sshloginfile --stdout-body --summary
    --tag --tagstring --tf --timeout --total --total-jobs --transfer --transferfile --trc --trim --ungroup --user --user-agent --version --will-cite
    --wd --workdir --xapply --xargs'
  local i word
  # After ::: come items (nothing to complete); after :::: files; once COMMAND has started, its
  # own words (files).
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    case $word in
      ::::|::::+) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      :::|:::+) COMPREPLY=(); return ;;
    esac
  done
  case $prev in
    -m|--mode) COMPREPLY=($(compgen -W 'thread process' -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W 'text jsonl' -- "$cur")); return ;;
    --color|--colour) COMPREPLY=($(compgen -W 'auto always never' -- "$cur")); return ;;
    --kind) COMPREPLY=($(compgen -W 'auto shell url' -- "$cur")); return ;;
    --method) COMPREPLY=($(compgen -W 'GET HEAD POST PUT PATCH DELETE OPTIONS' -- "$cur")); return ;;
    --trim) COMPREPLY=($(compgen -W 'n l r lr rl' -- "$cur")); return ;;
    -w|--return-when) COMPREPLY=($(compgen -W 'all first-completed first-exception' -- "$cur")); return ;;
    --halt|--halt-on-error)
      COMPREPLY=($(compgen -W 'never now,fail=1 soon,fail=1 now,success=1 soon,success=1 now,done=1 soon,done=1' -- "$cur"))
      return ;;
    -a|--arg-file|--joblog|--jsonl-file|--results|--junit|--slf|--sshloginfile|\
    --tf|--transferfile|--return|--trc|--bf|--basefile|--data-file|--cacert|--cert|--key) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -S|--sshlogin) COMPREPLY=($(compgen -A hostname -- "$cur")); return ;;
    --env) COMPREPLY=($(compgen -v -- "$cur")); return ;;
    --output-dir|--wd|--workdir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    -d|--delimiter|-C|--colsep|--col-header|-n|--max-args|-N|--max-replace-args|-L|--max-lines|-s|--max-chars|\
    -j|--jobs|-P|--max-procs|--max-tasks-per-child|-t|--timeout|--grace|--deadline|--retries|--retry-delay|\
    --delay|--tagstring|--ctagstring|--total-jobs|--total|-H|--header|--max-redirects|--connect-timeout|--max-bytes|\
    --ssh|--ssh-delay|--rate|--data|--json|--user|--user-agent|--max-per-host|-O|--output)
      return ;;  # a value the user types
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
    return
  fi
  # The first word that is no option's value starts COMMAND.
  COMPREPLY=($(compgen -c -- "$cur"))
}
complete -F _pexec -o filenames pexec
