"""Writes ArrowStream bytes produced by chDB (ClickHouse's engine in-process) for the decoding tests.

usage: arrow_fixtures.py OUT_DIR [ROWS]
Writes none.arrow, lz4_frame.arrow, zstd.arrow (the same rows under each of ClickHouse's Arrow
compression methods) and rows.jsonl (the same rows as ClickHouse prints them in JSON, 64-bit integers
and decimals quoted, timestamps as unix seconds with their fraction) plus version.txt.
"""
import os
import sys

import chdb

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
os.makedirs(out, exist_ok=True)

SELECT = f"""
SELECT
  number AS n,
  multiIf(number = 0, toUInt64('18446744073709551615'), number = 1, toUInt64(9007199254740993),
          cityHash64(number)) AS u64,
  multiIf(number = 0, toInt64('-9223372036854775808'), number = 1, toInt64('9223372036854775807'),
          toInt64(cityHash64(number, 1))) AS i64,
  toFloat64(number) / 7 - 100 AS f64,
  if(number % 5 = 0, NULL, toInt32(number) - 1000) :: Nullable(Int32) AS n_i32,
  concat('sig-', hex(cityHash64(number, 2)), repeat('x', toUInt32(number % 13))) AS s,
  toLowCardinality(arrayElement(['raydium', 'orca', 'meteora', 'pumpswap'], (number % 4) + 1)) AS dex,
  if(number % 3 = 0, NULL, arrayElement(['arbitrage', 'mev'], (number % 2) + 1))
    :: LowCardinality(Nullable(String)) AS module,
  toDateTime64(1764000000 + number * 0.123, 3, 'America/New_York') AS ts,
  toDateTime64(1764000000 + number * 0.000321, 6, 'UTC') AS ts_us,
  toDate('2026-01-01') + toIntervalDay(number % 400) AS day,
  toDecimal64(toString(number * 12345), 4) / 100 AS d64,
  multiIf(number = 0, toDecimal128('-99999999999999999999999999999.999999999', 9),
          toDecimal128(toString(toInt64(cityHash64(number, 3) % 1000000000000)), 9) / 1000) AS d128,
  toDecimal256(concat(toString(cityHash64(number, 4)), toString(cityHash64(number, 5)), '.', toString(number)), 20)
    AS d256,
  arrayMap(x -> toUInt32(x * number), range(number % 5)) AS arr,
  arrayMap(x -> if(x = 1, NULL, concat('r', toString(x))), range(number % 4)) :: Array(Nullable(String)) AS arr_s,
  number % 2 = 1 AS b,
  reinterpretAsUUID(reverse(unhex(lpad(hex(cityHash64(number, 6)), 16, '0') || lpad(hex(cityHash64(number, 7)), 16, '0'))))
    AS id
FROM numbers({rows})
ORDER BY n
"""

ARROW = ("output_format_arrow_low_cardinality_as_dictionary = 1, output_format_arrow_string_as_string = 1, "
         "max_block_size = 1000")
for method in ("none", "lz4_frame", "zstd"):
    q = f"{SELECT} SETTINGS {ARROW}, output_format_arrow_compression_method = '{method}'"
    with open(os.path.join(out, f"{method}.arrow"), "wb") as f:
        f.write(chdb.query(q, "ArrowStream").bytes())

JSON = ("output_format_json_quote_64bit_integers = 1, output_format_json_quote_decimals = 1, "
        "date_time_output_format = 'unix_timestamp'")
with open(os.path.join(out, "rows.jsonl"), "wb") as f:
    f.write(chdb.query(f"{SELECT} SETTINGS {JSON}", "JSONEachRow").bytes())
with open(os.path.join(out, "version.txt"), "w") as f:
    f.write(chdb.query("SELECT version()", "TabSeparated").bytes().decode().strip())
