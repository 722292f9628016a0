import CorralTUI

/// The part of `corral --help` after the overview: keys, children's environment, exit statuses.
/// Lines stay under 78 columns: argument-parser wraps longer ones.
enum HelpText {
    /// The dashboard's keys, from ``KeyHelp`` (the short form: `--help` stays narrow).
    private static let keys = KeyHelp.lines(short: true).map { "  " + $0 }.joined(separator: "\n")

    static let discussion = """
        Without a command, corral runs its built-in demo: an HTTP server on
        127.0.0.1:8080 (see --port) whose 4 workers share one listening socket
        bound by the main process, plus a ticker extra process.
        `curl http://127.0.0.1:8080/` answers with the worker's index and pid.
        SIGINT drains open connections; SIGTERM closes them at once.

        The first stop signal corral receives (Ctrl-C is SIGINT) is forwarded
        once to every process group (the program behind `sh -c` gets it too);
        after --wait-timeout what still runs is SIGKILLed. Another signal that
        would end corral (SIGTERM when only INT stops, SIGQUIT...)
        stops the server the same way, with the first stop signal; a signal
        while stopping is only acknowledged. Ctrl-Z is refused. A process that
        fails in init or ends without being asked stops the others (see
        --keep-running, --restart); what remains of its process group is
        stopped too.

        SIGHUP (kill -HUP, systemctl reload) reloads every worker, new before
        old (R in the dashboard; a project run reads its file again), unless it
        is the hangup of the terminal corral started on: then it stops.
        SIGTTIN / SIGTTOU from another process add or retire a worker. A
        reload waits for each new worker to be ready (--ready; by default up
        for a second) and rolls back if one fails.

        The dashboard shows when standard input and output are a terminal;
        otherwise corral runs headless, as with --no-tui. NO_COLOR turns colour
        off.

        FROM ANOTHER TERMINAL (every corral has a control socket, see --control)
          corral ls                      the corrals of this user that run
          corral ctl status [--json]     processes, pids, states (--ready: exit 0
                                         when every process runs, else 1 and why)
          corral ctl events              every event as JSON lines
          corral logs [NAME|PROGRAM…] [-f] [-n N] [--grep TEXT|re:REGEX]
                     [--since DURATION] [--json]
                                         the children's output it keeps; -f follows
          corral ctl signal SIG [NAME|PROGRAM|--index N] | restart N|NAME
                     | reload [PROGRAM…] | scale N|PROGRAM=N… | stop
                     | kill [NAME|PROGRAM]
                                         steer it (--pid PID or --socket PATH
                                         first when several corrals run)
          corral attach                  this dashboard; q detaches

        PROJECT FILES
          corral check [-f FILE]         check a corral.toml or a Procfile and its
                                         .env; print the plan (errors: FILE:LINE)

        KEYS (dashboard)
        \(keys)

        KEYS (headless, standard input a terminal; each followed by Enter)
          q        stop with the first stop signal; q again force-kills
          k        force-kill: SIGKILL to every process group

        ENVIRONMENT GIVEN TO EVERY PROCESS
          CORRAL_PROCESS_INDEX  0-based slot; extras continue after the workers
          CORRAL_WORKER_COUNT   the number of workers when it was started
          NOTIFY_SOCKET         for READY=1, STOPPING=1, STATUS=... (sd_notify)
          LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID
                                sockets from --listen (or the main process),
                                from fd 3 (the demo's workers get its
                                listener as "http")

        EXIT STATUS
          0   a stop was requested and every process ended cleanly (exit 0,
              or the very stop signal it was sent)
          1   a process failed: init failure, ended without being asked,
              failed shutdown, killed by a signal corral did not send,
              could not be started, or gave up restarting (a crash loop)
          2   nothing failed, but a process had to be SIGKILLed (after the
              wait timeout, or force-killed)
          64  bad command line: invalid option, unknown signal, command not
              found, port in use, an unusable control socket path
          71  corral itself hit a system error, or cannot read its command
              line (/proc not mounted)
        """
}
