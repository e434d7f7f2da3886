#!/usr/bin/env python3
"""Turns the statements one page sent (PostgreSQL csvlog with log_statement = all) into
a pgbench script that replays them with their parameters written in, so pgbench can
measure the database's floor for that page.

    replay.py CSVLOG OFFSET > page.sql

Reads the log from byte OFFSET; keeps the statements of the app's connections
(application_name = clienthub), in order.
"""
import csv
import re
import sys

MESSAGE, DETAIL, APPLICATION = 13, 14, 22
PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")
PLACEHOLDER = re.compile(r"\$(\d+)(?!\d)")
STATEMENT = re.compile(r"^(?:statement|execute [^:]+): (.*)$", re.S)


def replay(path, offset):
    with open(path, newline="", encoding="utf-8") as log:
        log.seek(offset)
        for row in csv.reader(log):
            if len(row) <= APPLICATION or row[APPLICATION] != "clienthub":
                continue
            found = STATEMENT.match(row[MESSAGE])
            if not found:
                continue
            sql = found.group(1).strip().rstrip(";")
            values = dict(PARAM.findall(row[DETAIL])) if row[DETAIL].startswith("parameters:") else {}
            if values:
                sql = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), sql)
            yield sql + ";"


if __name__ == "__main__":
    statements = list(replay(sys.argv[1], int(sys.argv[2])))
    if not statements:
        sys.exit("no statements of the app in the log")
    print("\n".join(statements))
