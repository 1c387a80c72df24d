#!/usr/bin/env python3
"""Start moto's server on loopback with the AMI fixture loaded.

Usage: moto_launch.py PORT [AMIS_JSON]

moto 5.2 parses each AMI entry's creation_date in place while loading a
region, so the second region to load would choke on an already-parsed
datetime: let datetimes through. Binds 127.0.0.1 only.

CG_MOTO_MAX_SG_RULES=N models an account whose "rules per security group"
quota was raised (moto hard-codes AWS's default, 60 for VPC groups, and
enforces it on AuthorizeSecurityGroupIngress).

CG_MOTO_PUBLIC_IPS=N draws public addresses from N only (54.214.0.1..N), so
that instances of two regions share one, which moto's random 54.214.x.y
does now and then: tests make it certain.

Instances launched without a subnet get a private address drawn from
10.96.0.0/12 instead of moto's anywhere-in-10/8: the tiers running beside
this one own 10.73-10.91, 10.201, 10.212 and 10.213, and e2e-aws routes each
instance's private address to a namespace of its own (its data plane
refuses an address already routed here: an instance there was unreachable).
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
    limit = os.environ.get("CG_MOTO_MAX_SG_RULES")
    if limit:
        from moto.ec2.models.security_groups import SecurityGroupBackend
        from moto.ec2.exceptions import RulesPerSecurityGroupLimitExceededError

        def verify(self, group, current_rule_nb, ip_ranges, source_groups=None, egress=False):
            n = current_rule_nb + len(ip_ranges or []) + len(source_groups or [])
            if n > int(limit):
                raise RulesPerSecurityGroupLimitExceededError

        SecurityGroupBackend._verify_group_will_respect_rule_count_limit = verify
    import random
    import moto.ec2.models.instances as instances

    orig_private = instances.random_private_ip

    def private_ip(cidr=None, ipv6=False):
        if cidr or ipv6:
            return orig_private(cidr, ipv6)
        return "10.%d.%d.%d" % (random.randint(96, 111), random.randint(0, 255), random.randint(1, 254))

    instances.random_private_ip = private_ip
    pool = os.environ.get("CG_MOTO_PUBLIC_IPS")
    if pool:
        import moto.ec2.models.elastic_network_interfaces as enis

        enis.random_public_ip = lambda: "54.214.0.%d" % random.randint(1, int(pool))
    from moto.server import main as moto_main
    moto_main(["-H", "127.0.0.1", "-p", port])


if __name__ == "__main__":
    main()
