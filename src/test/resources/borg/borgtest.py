"""Common helpers of the interop scripts: Borg's logging with warnings recorded, JSON on stdout.

Every script prints exactly one JSON object on stdout (its last line); Borg's own log output
goes to stderr, which the Java side puts into its assertion messages.
"""
import json
import logging
import sys


class WarningRecorder(logging.Handler):
    """Keeps every record at WARNING or above: Borg repairs a bad index or hints file silently
    (it only logs a warning and rebuilds), so an empty list is part of every interop proof."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append('%s %s: %s' % (record.levelname, record.name, record.getMessage()))


def start():
    """Sets up Borg's logging (to stderr) and returns the recorder of warnings."""
    from borg.logger import setup_logging
    setup_logging(level='info')
    recorder = WarningRecorder()
    logging.getLogger('').addHandler(recorder)
    return recorder


def hexid(key):
    return bytes(key).hex()


def done(result):
    sys.stdout.write(json.dumps(result, sort_keys=True) + '\n')
    sys.stdout.flush()
