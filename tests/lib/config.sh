# Paths found by configure, for the test scripts.
MOSQUITTO='/usr/sbin/mosquitto'
MOSQUITTO_PUB='/usr/bin/mosquitto_pub'
MOSQUITTO_SUB='/usr/bin/mosquitto_sub'
OPENSSL='/usr/bin/openssl'
NODE='/usr/bin/node'
MANDOC='/usr/bin/mandoc'
