# fish completion for ssecat(1), part of mqsse

# ssecat takes a URL, not files: offer files only after the options that want one.
complete -c ssecat -f
complete -c ssecat -n 'not string match -q -- "-*" (commandline -ct)' -a 'http:// https://' -d 'URL'

# The body of -d and --data-json: DATA of the user's own, @FILE or @- (stdin).
function __ssecat_data
    set -l tok (commandline -ct)
    string match -q -- '@*' $tok; or test -z "$tok"; or return
    printf '%s\t%s\n' @- 'Standard input'
    __fish_complete_path (string sub -s 2 -- $tok) | string replace -r '^' '@'
end

# Output
complete -c ssecat -s N -l no-newline -d 'Nothing after the data of each event'
complete -c ssecat -s 0 -l null -d 'NUL after each event instead of newline'
complete -c ssecat -s j -l json -d 'One JSON object per line'
complete -c ssecat -s F -l format -x -d 'Format string'
complete -c ssecat -l raw -d 'Write the events back as text/event-stream'

# Selection and stop
complete -c ssecat -s e -l event -x -d 'Print only events of this type'
complete -c ssecat -s C -l count -x -d 'Exit after n events'
complete -c ssecat -s W -l timeout -x -d 'Exit after this long'

# Request
complete -c ssecat -s H -l header -x -d 'Extra request header (Name: value)'
complete -c ssecat -s u -l user -x -d 'HTTP basic authentication (user:password)'
complete -c ssecat -s X -l request -x -a 'GET POST PUT PATCH DELETE' -d 'Request method'
complete -c ssecat -s d -l data -x -a '(__ssecat_data)' -d 'Request body, form-encoded'
complete -c ssecat -l data-json -x -a '(__ssecat_data)' -d 'Request body, JSON'
complete -c ssecat -l last-event-id -x -d 'Last-Event-ID of the first request'

# Reconnection
complete -c ssecat -l no-reconnect -d 'Exit when the stream ends'
complete -c ssecat -l max-reconnects -x -d 'Give up after n failed reconnections'
complete -c ssecat -l connect-timeout -x -d 'Limit of each connection attempt'
complete -c ssecat -l idle-timeout -x -d 'Reconnect when nothing arrived for this long'
complete -c ssecat -l max-event -x -a '1M 16M 64M 256M 1G' -d 'Skip larger events'

# TLS
complete -c ssecat -l cacert -r -F -d 'CA certificates to verify the server'
complete -c ssecat -s k -l insecure -d 'Do not verify the server certificate'
complete -c ssecat -l cert -r -F -d 'Client certificate'
complete -c ssecat -l key -r -F -d 'Client private key'

complete -c ssecat -s v -l verbose -d 'Report the connection on stderr'
complete -c ssecat -l help -d 'Display help and exit'
complete -c ssecat -l version -d 'Display version and exit'
