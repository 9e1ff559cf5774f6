# fish completion for ssepush(1), part of mqsse

# True once "--" is on the command line before the word being completed:
# from then on the words are a command and its arguments.
function __ssepush_after_dd
    contains -- -- (commandline -opc)
end

# The command line from the word after "--" on, for the command's own completions.
function __ssepush_command
    set -l words (commandline -opc)
    set -l i (contains -i -- -- $words)
    set -l rest $words[(math $i + 1)..-1]
    if test (count $rest) -eq 0
        __fish_complete_command
    else
        complete -C (string join -- ' ' (string escape -- $rest (commandline -ct)))
    end
end

# ssepush takes no operands before "--": no files but after the options that want one.
complete -c ssepush -f
complete -c ssepush -n __ssepush_after_dd -x -a '(__ssepush_command)'

# Input
complete -c ssepush -n 'not __ssepush_after_dd' -s 0 -l null -d 'NUL-terminated records'
complete -c ssepush -n 'not __ssepush_after_dd' -s j -l json -d 'JSON Lines input'
complete -c ssepush -n 'not __ssepush_after_dd' -l raw -d 'text/event-stream input (as ssecat --raw writes)'
complete -c ssepush -n 'not __ssepush_after_dd' -s e -l event -x -d 'Event type of line and NUL input'
complete -c ssepush -n 'not __ssepush_after_dd' -l max-event -x -a '1M 16M 64M 256M 1G' -d 'Skip longer records (default 16M)'
complete -c ssepush -n 'not __ssepush_after_dd' -l exit-on-eof -d 'Exit when the input ends and clients have it'
complete -c ssepush -n 'not __ssepush_after_dd' -s v -l verbose -d 'A line per client on stderr'

# HTTP
complete -c ssepush -n 'not __ssepush_after_dd' -s l -l listen -x -a '127.0.0.1:8080 :8080 [::1]:8080 127.0.0.1:0' -d 'Where to listen ([addr]:port)'
complete -c ssepush -n 'not __ssepush_after_dd' -l history -x -d 'Events kept for replay (default 1000)'
complete -c ssepush -n 'not __ssepush_after_dd' -l history-bytes -x -a '16M 64M 256M 1G' -d 'Bytes of events kept for replay (default 64M)'
complete -c ssepush -n 'not __ssepush_after_dd' -l backlog -x -d 'Events the viewer page loads first (default 100)'
complete -c ssepush -n 'not __ssepush_after_dd' -l heartbeat -x -d 'Comment to idle clients, seconds (default 15; 0: none)'
complete -c ssepush -n 'not __ssepush_after_dd' -l retry -x -d 'retry: sent to each new client (ms)'
complete -c ssepush -n 'not __ssepush_after_dd' -l cors -x -d 'Allowed origin (repeatable, * for any)'
complete -c ssepush -n 'not __ssepush_after_dd' -l token -x -d 'Require this bearer token'
complete -c ssepush -n 'not __ssepush_after_dd' -l tls-cert -r -F -d 'Serve HTTPS with this certificate'
complete -c ssepush -n 'not __ssepush_after_dd' -l tls-key -r -F -d 'Private key of --tls-cert'
complete -c ssepush -n 'not __ssepush_after_dd' -l max-clients -x -d 'More are answered 503 (default 10000)'
complete -c ssepush -n 'not __ssepush_after_dd' -l client-buffer -x -a '64K 1M 16M' -d 'Unsent data that drops a client (default 1M)'
complete -c ssepush -n 'not __ssepush_after_dd' -l client-timeout -x -d 'Time a client may hold the stream up (default 5)'
complete -c ssepush -n 'not __ssepush_after_dd' -l no-ui -d 'No viewer page'

complete -c ssepush -n 'not __ssepush_after_dd' -l help -d 'Display help and exit'
complete -c ssepush -n 'not __ssepush_after_dd' -l version -d 'Display version and exit'
