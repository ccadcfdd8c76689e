#!/bin/sh
# No service starts while a package installs: a container runs one process, started by its entrypoint.
exit 101
