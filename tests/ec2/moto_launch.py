#!/usr/bin/env python3
"""Start moto's server on loopback with the AMI fixture loaded.

Usage: moto_launch.py PORT [AMIS_JSON]

moto 5.2 parses each AMI entry's creation_date in place while loading a
region, so the second region to load would choke on an already-parsed
datetime: let datetimes through. Binds 127.0.0.1 only.
"""
import datetime
import os
import sys


def main():
    port = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    os.environ["MOTO_AMIS_PATH"] = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "amis.json")
    import moto.ec2.models.amis as amis  # reads MOTO_AMIS_PATH at import

    orig = amis.parse_timestamp

    def parse(value):
        if isinstance(value, datetime.datetime):
            return value
        return orig(value)

    amis.parse_timestamp = parse
    from moto.server import main as moto_main
    moto_main(["-H", "127.0.0.1", "-p", port])


if __name__ == "__main__":
    main()
