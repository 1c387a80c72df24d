#!/usr/bin/env python3
"""Regenerate providers/ec2/prices.tsv, cassandgo's EC2 price table.

usage: providers/ec2/prices.py INSTANCES_JSON VERSION > providers/ec2/prices.tsv

INSTANCES_JSON is data/instances.json of the Go module
github.com/cristim/ec2-instances-info (the ec2instances.info data, public
domain), fetched with `go mod download -json github.com/cristim/ec2-instances-info@VERSION`
(`make prices` does both). Kept: x86_64 instance types of the families
people run Cassandra on, Linux prices in every region that has them. Each
cell is ON_DEMAND:SPOT in USD per hour; SPOT is the on-demand price less
the average spot saving the data gives (pct_savings_od), an estimate."""
import json
import sys

FAMILIES = set("""c3 c4 i2 m3 m4 r3 r4 c5 c5a c5ad c5d c5n c6a c6i c6id c6in c7a c7i c7i-flex d3 d3en i3 i3en i4i
i7ie m5 m5a m5ad m5d m5dn m5n m6a m6i m6id m6idn m6in m7a m7i m7i-flex r5 r5a r5ad r5b r5d
r5dn r5n r6a r6i r6id r6idn r6in r7a r7i r7iz t2 t3 t3a x2idn x2iedn z1d""".split())


def main():
    data = json.load(open(sys.argv[1]))
    version = sys.argv[2]
    rows, regions = {}, set()
    for it in data:
        t = it["instance_type"]
        if t.split(".")[0] not in FAMILIES or "x86_64" not in it.get("arch", []):
            continue
        cells = {}
        for region, p in it.get("pricing", {}).items():
            lin = p.get("linux") or {}
            try:
                od = float(lin["ondemand"])
            except (KeyError, TypeError, ValueError):
                continue
            if od <= 0:
                continue
            save = lin.get("pct_savings_od")
            spot = od * (100 - save) / 100 if isinstance(save, (int, float)) and 0 < save < 100 else od
            cells[region] = "%g:%.4g" % (od, spot)
            regions.add(region)
        if cells:
            rows[t] = cells
    regions = sorted(r for r in regions if r.count("-") == 2)  # no local zones
    print("# cassandgo EC2 prices: USD per hour, Linux, ON_DEMAND:SPOT per region "
          "(SPOT = on-demand less the average spot saving: an estimate); '-' = not sold there.")
    stamp = version.split("-")[1] if version.count("-") >= 2 else ""
    date = "%s-%s-%s " % (stamp[:4], stamp[4:6], stamp[6:8]) if len(stamp) >= 8 else ""
    print("# source: ec2instances.info data of %s(github.com/cristim/ec2-instances-info %s)"
          % (date, version))
    print("# regenerate with `make prices` (PRICES_VERSION=... for another version)")
    print("type\t" + "\t".join(regions))
    for t in sorted(rows):
        print(t + "\t" + "\t".join(rows[t].get(r, "-") for r in regions))


if __name__ == "__main__":
    main()
