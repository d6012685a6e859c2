#!/usr/bin/env python3
"""A hub account for the network rules: 50,000 payments in from distinct accounts and
50,000 out to distinct accounts within 30 days, and one 3-hop cycle through it.

    python3 benches/hub.py VARIANT OUT.csv

VARIANT: random  (amounts 10-100,000, log-uniform)
         uniform (every amount 2,000)
         live    (uniform, and every payee pays a payer 5,000: all accounts active,
                  no hop of 2,000 can follow)
         dense   (live, but at 2,000: payees pay payers back, real cycles everywhere)
"""
import random
import sys

variant, out = sys.argv[1], sys.argv[2]
random.seed(5)


def ts(sec):
    d, r = 1 + sec // 86400, sec % 86400
    return f"2026-01-{d:02d}T{r // 3600:02d}:{(r % 3600) // 60:02d}:{r % 60:02d}"


def amount():
    return round(10 * 10 ** (random.random() * 4), 2) if variant == "random" else 2000.0


with open(out, "w") as f:
    f.write("txn_id,ts,amount,orig_account,bene_account,channel,orig_country,bene_country\n")
    for k in range(50000):
        f.write(f"i{k},{ts(random.randrange(30 * 86400))},{amount()},X{k},HUB,wire,KZ,KZ\n")
        f.write(f"o{k},{ts(random.randrange(30 * 86400))},{amount()},HUB,Y{k},wire,KZ,KZ\n")
        if variant in ("live", "dense"):
            back = 5000.0 if variant == "live" else 2000.0
            f.write(f"p{k},{ts(random.randrange(30 * 86400))},{back},Y{k},X{(k * 7919) % 50000},wire,KZ,KZ\n")
    f.write("c1,2026-01-10T10:00:00,4321,A,HUB,wire,KZ,KZ\n")
    f.write("c2,2026-01-11T10:00:00,4300,HUB,B,wire,KZ,KZ\n")
    f.write("c3,2026-01-12T10:00:00,4250,B,A,wire,KZ,KZ\n")
