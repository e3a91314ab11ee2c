"""Audit parameters given on a command line as ``key=value``."""

import argparse
import json


def parse_key_value(text):
    """``key=value``; the value is read as JSON when it parses (numbers,
    booleans, objects), else kept as a string."""
    key, sep, value = text.partition('=')
    if not sep or not key:
        raise argparse.ArgumentTypeError(
            '%r is not key=value, e.g. max_parallel_migrations=2 or '
            'placement=pack' % text)
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value
