"""The STEDI lakehouse zones on Spark, exported by `stedi export-spark` (stedi {{version}}).

Builds the eight zones of the STEDI contract (landing, trusted, curated) from landing
JSON, with the same rules, policy and pseudonyms as the `stedi` command, and writes each
zone as Parquet under OUTPUT/<zone>/ and the quarantined records under OUTPUT/quarantine/.

On any Spark 3.3 or later:

    spark-submit stedi_job.py --input PATH --output PATH [--salt TEXT] [knobs]

On AWS Glue (4.0 or later), as a Spark job with the job parameters --input, --output and
--salt. Knobs (--preset, --consent-time, --ml-join, --pii) override the policy below.
"""

import argparse
import codecs
import decimal
import hashlib
import hmac
import json
import math
import re
import secrets
import sys
import zlib

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

try:
    from pyspark.errors import AnalysisException
except ImportError:  # Spark before 3.4
    from pyspark.sql.utils import AnalysisException

try:
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
except ImportError:  # plain Spark: no Glue libraries
    GlueContext = None

STEDI_VERSION = "{{version}}"

# The policy this job was exported with ({{preset}}); job arguments override it.
EXPORTED_POLICY = {
    "consent_time": "{{consent_time}}",
    "ml_join": "{{ml_join}}",
    "pii": "{{pii}}",
}

PRESETS = {
    "strict": {"consent_time": "enforce", "ml_join": "device", "pii": "pseudonymize"},
    "rubric": {"consent_time": "ignore", "ml_join": "timestamp", "pii": "keep"},
}

KNOBS = {
    "consent_time": ("enforce", "ignore"),
    "ml_join": ("device", "timestamp"),
    "pii": ("keep", "pseudonymize", "drop"),
}

# ---------------------------------------------------------------------------------------
# Ingest: one file at a time, as the stedi core reads it (SPEC section 2).
# ---------------------------------------------------------------------------------------

INPUT_EXTENSIONS = r"\.(json|jsonl|ndjson|gz)$"
MAX_RECORD_BYTES = 16 * 1024 * 1024
RAW_LIMIT = 1024
GZIP_MAGIC = b"\x1f\x8b"
# Compressed bytes inflated at a time, as stedi does: where damaged data stops the
# reading depends on it.
GZIP_STEP = 4096
SNIFF_BYTES = 16
BOM = codecs.BOM_UTF8
# ASCII whitespace as Rust's u8::is_ascii_whitespace has it (no vertical tab).
ASCII_WHITESPACE = b" \t\n\r\x0c"
JSON_WHITESPACE = " \t\n\r"
I64_MIN, I64_MAX, U64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

# Quarantine reasons, worded as stedi words them.
OVERSIZED = (
    "record longer than the 16 MiB limit: check that the file's lines end in LF or "
    "CRLF, or split the record"
)
AFTER_ARRAY = (
    "content after the closing ] of the JSON array: a file holds one array, or one "
    "object per line"
)
EMPTY_ELEMENT = "empty element in the JSON array"
CUT_RECORD = "the file ends inside this record: it looks truncated"
NUL_BYTES = "contains NUL bytes (0x00): the file is damaged or is not text"
NOT_UTF8 = "not UTF-8 text (JSON must be UTF-8): save the file as UTF-8"
NOT_A_NUMBER = "invalid JSON: NaN and Infinity are not JSON numbers; write null or a number"
UNKNOWN_SOURCE = "the file's source is unknown"

# Files that are not JSON text, told by their first bytes: quarantined whole, as one
# record, since cutting them at newline bytes would count records that never existed.
NOT_TEXT = [
    (b"\x89PNG\r\n\x1a\n", "not JSON text: the file is a PNG image"),
    (b"\xff\xd8\xff", "not JSON text: the file is a JPEG image"),
    (b"GIF8", "not JSON text: the file is a GIF image"),
    (b"%PDF-", "not JSON text: the file is a PDF document"),
    (b"PAR1", "not JSON text: the file is a Parquet file"),
    (b"SQLite format 3\x00", "not JSON text: the file is an SQLite database"),
    (b"PK\x03\x04", "not JSON text: the file is a ZIP archive"),
    (b"7z\xbc\xaf\x27\x1c", "not JSON text: the file is a 7-Zip archive"),
    (GZIP_MAGIC, "not JSON text: the file is gzip-compressed twice"),
    (b"\xfd7zXZ\x00", "not JSON text: the file is xz-compressed"),
    (b"\x28\xb5\x2f\xfd", "not JSON text: the file is zstd-compressed"),
    (b"BZh", "not JSON text: the file is bzip2-compressed"),
]
UTF16 = "not UTF-8 text: the file is UTF-16 (or UTF-32) text"

FIELDS = [
    "customerName",
    "email",
    "phone",
    "birthDay",
    "serialNumber",
    "registrationDate",
    "lastUpdateDate",
    "shareWithResearchAsOfDate",
    "shareWithPublicAsOfDate",
    "shareWithFriendsAsOfDate",
    "user",
    "timestamp",
    "x",
    "y",
    "z",
    "sensorReadingTime",
    "distanceFromObject",
]
FIELD_BY_LOWER_NAME = {name.lower(): name for name in FIELDS}

# Detection order and each source's identifying keys.
SOURCES = [
    ("customer", ("email", "serialNumber")),
    ("accelerometer", ("user", "timestamp")),
    ("step_trainer", ("sensorReadingTime", "serialNumber")),
]

CUSTOMER_COLUMNS = FIELDS[:10]
ACCELEROMETER_COLUMNS = ["user", "timestamp", "x", "y", "z"]
STEP_TRAINER_COLUMNS = ["sensorReadingTime", "serialNumber", "distanceFromObject"]
MACHINE_LEARNING_COLUMNS = STEP_TRAINER_COLUMNS + ACCELEROMETER_COLUMNS
DOUBLE_FIELDS = {"x", "y", "z"}
LONG_FIELDS = {
    "registrationDate",
    "lastUpdateDate",
    "shareWithResearchAsOfDate",
    "shareWithPublicAsOfDate",
    "shareWithFriendsAsOfDate",
    "timestamp",
    "sensorReadingTime",
    "distanceFromObject",
}


def _field_type(name):
    if name in DOUBLE_FIELDS:
        return DoubleType()
    if name in LONG_FIELDS:
        return LongType()
    return StringType()


# One row per record read: where it came from, its source, why it was quarantined (null
# when accepted), and its fields.
RECORD_SCHEMA = StructType(
    [
        StructField("file", StringType(), False),
        StructField("file_sha256", StringType(), False),
        StructField("ordinal", LongType(), False),
        StructField("line", LongType(), False),
        StructField("source", StringType(), True),
        StructField("reason", StringType(), True),
        StructField("raw", StringType(), True),
    ]
    + [StructField(name, _field_type(name), True) for name in FIELDS]
)


class _Object(list):
    """A JSON object as its (key, value) pairs in document order."""


class _NotANumber(ValueError):
    """NaN or Infinity, which Python's json reads and JSON does not have."""


class _OutOfRange(ValueError):
    """A number too large for a 64-bit float."""


def _parse_float(text):
    value = float(text)
    if math.isinf(value):
        raise _OutOfRange("number out of range")
    return value


def _parse_int(text):
    value = int(text)
    if I64_MIN <= value <= U64_MAX:
        return value
    # Integers beyond 64 bits are read as floats, as serde_json reads them.
    return _parse_float(text)


def _reject_constant(name):
    raise _NotANumber(name)


def json_decoder():
    """A decoder that reads numbers and objects as serde_json does. Made where it is used:
    a decoder cannot be pickled to send to the executors."""
    return json.JSONDecoder(
        object_pairs_hook=_Object,
        parse_float=_parse_float,
        parse_int=_parse_int,
        parse_constant=_reject_constant,
    )


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
# What a number cut by the end of the bytes leaves where Python's parser stops.
_CUT_NUMBER = re.compile(r"-|\.|[eE][+-]?")


def _has_lone_surrogate(value):
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, _Object):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value)
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, _Object):
        return "an object"
    return "an array"


def _float_text(value):
    # Rust's Display for f64: shortest round-trip digits, never an exponent, no ".0".
    text = format(decimal.Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _ends_early(text, error):
    """Whether Python's parser stopped because the bytes ran out (serde_json's Eof)."""
    if error.msg.startswith("Unterminated string"):
        return True
    rest = text[error.pos :].rstrip(JSON_WHITESPACE)
    if not rest or _CUT_NUMBER.fullmatch(rest):
        return True
    return any(word.startswith(rest) for word in ("true", "false", "null"))


def _syntax_reason(text, error, last):
    rest = text[error.pos :]
    rest = rest[1:] if rest.startswith("-") else rest
    if rest.startswith(("NaN", "Infinity")):
        return NOT_A_NUMBER
    if last and _ends_early(text, error):
        return CUT_RECORD
    return "invalid JSON: " + error.msg[:1].lower() + error.msg[1:]


def _not_an_object(text, start, decoder, last):
    """The reason for a record whose first character is not `{`. As serde_json does, a
    scalar is read whole to name its kind; an array is named at its `[`."""
    first = text[start : start + 1]
    if first == "[":
        return "not a JSON object: the record is an array"
    try:
        decoder.raw_decode(text, start)
    except json.JSONDecodeError as e:
        return _syntax_reason(text, e, last)
    except _NotANumber:
        return NOT_A_NUMBER
    except _OutOfRange:
        return "invalid JSON: number out of range"
    except RecursionError:
        return "invalid JSON: recursion limit exceeded"
    kinds = {'"': "a string", "t": "a boolean", "f": "a boolean", "n": "null"}
    return "not a JSON object: the record is " + kinds.get(first, "a number")


class RecordError(Exception):
    """A record that cannot be accepted; the message is the quarantine reason."""


class Record:
    """A parsed record: the value of each known field (the last one wins on duplicate
    keys) and which keys were present, even as null."""

    def __init__(self, values):
        self.values = values

    @staticmethod
    def parse(raw, decoder, last):
        """`last` when nothing followed the record in its file, so that running out of
        bytes means the file was cut."""
        # A record must be UTF-8 throughout, even in ignored values: bytes are never
        # replaced, since that would silently change an email or a serial number.
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            # A character whose bytes stop at the end: cut, not mis-encoded.
            if last and e.end == len(raw) and e.reason == "unexpected end of data":
                raise RecordError(CUT_RECORD)
            raise RecordError(NUL_BYTES if b"\x00" in raw else NOT_UTF8)
        if "\x00" in text:
            raise RecordError(NUL_BYTES)
        start = len(text) - len(text.lstrip(JSON_WHITESPACE))
        if text[start : start + 1] != "{":
            raise RecordError(_not_an_object(text, start, decoder, last))
        try:
            value = decoder.decode(text)
        except json.JSONDecodeError as e:
            raise RecordError(_syntax_reason(text, e, last))
        except _NotANumber:
            raise RecordError(NOT_A_NUMBER)
        except _OutOfRange:
            raise RecordError("invalid JSON: number out of range")
        except RecursionError:
            raise RecordError("invalid JSON: recursion limit exceeded")
        if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
            raise RecordError("invalid JSON: lone surrogate in hex escape")
        values = {}
        for key, field_value in value:
            # ASCII-case-insensitive: a non-ASCII key never matches a field name.
            field = FIELD_BY_LOWER_NAME.get(key.lower()) if key.isascii() else None
            if field is not None:
                values[field] = field_value
        return Record(values)

    def has(self, field):
        return field in self.values

    def detect(self):
        for source, (a, b) in SOURCES:
            if self.has(a) and self.has(b):
                return source
        return None

    def _wrong(self, field, value, expected, required):
        if value is None and not self.has(field):
            return RecordError(f"missing required field '{field}'")
        if value is None and required:
            return RecordError(f"field '{field}' is null, but it is required")
        return RecordError(f"field '{field}' is {_kind(value)}, expected {expected}")

    def string(self, field):
        value = self.values.get(field)
        if isinstance(value, str):
            return value
        raise self._wrong(field, value, "a string", True)

    def opt_string(self, field, number_as_text=False):
        value = self.values.get(field)
        if value is None or isinstance(value, str):
            return value
        if number_as_text and not isinstance(value, bool):
            if isinstance(value, int):
                return str(value)
            if isinstance(value, float):
                return _float_text(value)
        raise self._wrong(field, value, "a string", False)

    def opt_int(self, field):
        value = self.values.get(field)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self._wrong(field, value, "an integer", False)
        if isinstance(value, int):
            if value <= I64_MAX:
                return value
            raise RecordError(f"field '{field}' is out of the 64-bit integer range")
        if isinstance(value, float):
            if not value.is_integer():
                raise RecordError(
                    f"field '{field}' has a fractional value, expected an integer"
                )
            if abs(value) < 9.2e18:
                return int(value)
            raise RecordError(f"field '{field}' is out of the 64-bit integer range")
        raise self._wrong(field, value, "an integer", False)

    def int(self, field):
        value = self.opt_int(field)
        if value is None:
            raise self._wrong(field, None, "an integer", True)
        return value

    def number(self, field):
        value = self.values.get(field)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise self._wrong(field, value, "a number", True)

    def accept(self, source):
        """The record's fields for `source`, checked in the order stedi checks them."""
        if source == "customer":
            email = self.string("email")
            serial = self.string("serialNumber")
            return {
                "customerName": self.opt_string("customerName"),
                "email": email,
                "phone": self.opt_string("phone", number_as_text=True),
                "birthDay": self.opt_string("birthDay"),
                "serialNumber": serial,
                "registrationDate": self.opt_int("registrationDate"),
                "lastUpdateDate": self.opt_int("lastUpdateDate"),
                "shareWithResearchAsOfDate": self.opt_int("shareWithResearchAsOfDate"),
                "shareWithPublicAsOfDate": self.opt_int("shareWithPublicAsOfDate"),
                "shareWithFriendsAsOfDate": self.opt_int("shareWithFriendsAsOfDate"),
            }
        if source == "accelerometer":
            user = self.string("user")
            return {
                "user": user,
                "timestamp": self.int("timestamp"),
                "x": self.number("x"),
                "y": self.number("y"),
                "z": self.number("z"),
            }
        time = self.int("sensorReadingTime")
        serial = self.string("serialNumber")
        return {
            "sensorReadingTime": time,
            "serialNumber": serial,
            "distanceFromObject": self.int("distanceFromObject"),
        }


def _is_blank(data):
    return not data.strip(ASCII_WHITESPACE)


def _gunzip(data):
    """The inflated bytes of every gzip member, and a problem when the data is damaged or
    cut short: the records before the damage are still read, the rest is not."""
    out = []
    member, fed = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS), False
    for start in range(0, len(data), GZIP_STEP):
        step = data[start : start + GZIP_STEP]
        while step:
            fed = True
            try:
                out.append(member.decompress(step))
            except zlib.error as e:
                return b"".join(out), f"the gzip data is damaged ({e})"
            step = b""
            if member.eof:
                step = member.unused_data
                member, fed = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS), False
    if fed:
        return b"".join(out), "the gzip data ends early: the file looks truncated"
    return b"".join(out), None


def _not_text(head):
    """The quarantine reason for content that is not JSON text, known by its first
    bytes; None for text."""
    for magic, reason in NOT_TEXT:
        if head.startswith(magic):
            # "BZh" alone could start a line of text; the digit and block magic cannot.
            if magic != b"BZh" or head[3:4].isdigit() and head[4:].startswith(b"1AY&SY"):
                return reason
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return UTF16
    if head[:1] in (b"{", b"[") and head[1:2] == b"\x00":
        return UTF16
    if head[:1] == b"\x00" and head[1:2] in (b"{", b"["):
        return UTF16
    return None


# A piece of a file: (line, bytes, reason when it cannot be a record, whether it is the
# last record with nothing after it).


def _split_lines(body, first_line):
    lines = body.split(b"\n")
    for number, line in enumerate(lines, first_line):
        if len(line) > MAX_RECORD_BYTES:
            yield number, line[:RAW_LIMIT], OVERSIZED, False
        elif not _is_blank(line):
            record = line[:-1] if line.endswith(b"\r") else line
            yield number, record, None, number == first_line + len(lines) - 1


def _split_array(body, problems):
    line = 1
    opened = closed = in_string = escaped = False
    depth = 0
    element_line = element_start = None
    after_line = after_start = None
    for i, byte in enumerate(body):
        if byte == 0x0A:
            line += 1
        if closed:
            if after_start is None and byte not in ASCII_WHITESPACE:
                after_line, after_start = line, i
            continue
        if not opened:
            opened = byte == 0x5B  # [
            continue
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # "
                in_string = False
            continue
        if byte in b",]" and depth == 0:
            if element_line is not None:
                yield _element(body[element_start:i], element_line, False)
                element_line = None
            elif byte == 0x2C:  # ,
                yield line, b"", EMPTY_ELEMENT, False
            closed = byte == 0x5D  # ]
            continue
        if element_line is None:
            if byte in ASCII_WHITESPACE:
                continue
            element_line, element_start = line, i
        if byte == 0x22:
            in_string = True
        elif byte in b"{[":
            depth += 1
        elif byte in b"}]":
            depth = max(depth - 1, 0)
    if closed:
        if after_start is not None:
            after = body[after_start : after_start + RAW_LIMIT]
            yield after_line, after, AFTER_ARRAY, False
        return
    # The array is not closed: its open element is the file's last record.
    if element_line is not None and not _is_blank(body[element_start:]):
        yield _element(body[element_start:], element_line, True)
    problems.append("the JSON array is not closed: the file looks truncated")


def _element(element, line, last):
    if len(element) > MAX_RECORD_BYTES:
        return line, element[:RAW_LIMIT].rstrip(ASCII_WHITESPACE), OVERSIZED, False
    return line, element.rstrip(ASCII_WHITESPACE), None, last


def split_records(data, problems):
    """The pieces of a file: JSON Lines, or one JSON array."""
    body = data[len(BOM) :] if data.startswith(BOM) else data
    text = body.lstrip(ASCII_WHITESPACE)
    if not text:
        return iter(())
    if text[:1] == b"[":
        return _split_array(body, problems)
    # Leading whitespace only moves the line count, as in stedi.
    return _split_lines(text, 1 + body[: len(body) - len(text)].count(b"\n"))


def _raw_text(raw):
    text = raw[:RAW_LIMIT].decode("utf-8", "replace")
    return text + "\u2026" if len(raw) > RAW_LIMIT else text


def read_file(name, data):
    """Every record of one file as a RECORD_SCHEMA row, accepted or quarantined. The
    file's source is that of its first record with a source's identifying keys."""
    sha256 = hashlib.sha256(data).hexdigest()
    decoder = json_decoder()
    problems = []
    if data[:2] == GZIP_MAGIC:
        data, problem = _gunzip(data)
        if problem:
            problems.append(problem)
    source = None
    accepted = []
    quarantined = []  # (line, ordinal, raw, reason)
    pending = []  # records read before any told the file's source

    def take(ordinal, line, raw, record):
        try:
            accepted.append((ordinal, line, record.accept(source)))
        except RecordError as e:
            reason = str(e)
            other = record.detect()
            if other is not None and other != source:
                article = "an" if other == "accelerometer" else "a"
                reason = (
                    f"{article} {other} record in a file of {source} records ({reason})"
                )
            quarantined.append((line, ordinal, raw, reason))

    not_text = _not_text(data[:SNIFF_BYTES])
    if not_text is not None:
        quarantined.append((1, 0, data[:RAW_LIMIT], not_text))
        problems.append(f"{not_text}: it was quarantined whole, as one record")
        pieces = iter(())
    else:
        pieces = split_records(data, problems)
    for ordinal, (line, raw, bad, last) in enumerate(pieces):
        if bad is not None:
            quarantined.append((line, ordinal, raw, bad))
            continue
        try:
            record = Record.parse(raw, decoder, last)
        except RecordError as e:
            quarantined.append((line, ordinal, raw, str(e)))
            continue
        if source is None:
            source = record.detect()
            if source is None:
                pending.append((ordinal, line, raw, record))
                continue
            for waiting in pending:
                take(*waiting)
            pending = []
        take(ordinal, line, raw, record)
    for ordinal, line, raw, _ in pending:
        quarantined.append((line, ordinal, raw, UNKNOWN_SOURCE))
    for problem in problems:
        print(f"warning: {name}: {problem}", file=sys.stderr)

    empty = dict.fromkeys(FIELDS)
    for ordinal, line, fields in accepted:
        row = dict(empty, **fields)
        yield (name, sha256, ordinal, line, source, None, None) + tuple(
            row[f] for f in FIELDS
        )
    for line, ordinal, raw, reason in sorted(quarantined, key=lambda q: q[:2]):
        yield (name, sha256, ordinal, line, source, reason, _raw_text(raw)) + tuple(
            empty[f] for f in FIELDS
        )


# ---------------------------------------------------------------------------------------
# Zones: the rules of SPEC section 3.
# ---------------------------------------------------------------------------------------

ZONES = [
    "customer_landing",
    "accelerometer_landing",
    "step_trainer_landing",
    "customer_trusted",
    "accelerometer_trusted",
    "customer_curated",
    "step_trainer_trusted",
    "machine_learning_curated",
]


def pseudonym_udf(salt):
    """The pseudonym of a value: the first 16 bytes of HMAC-SHA256(salt, value), in
    lowercase hex. The salt travels inside the function, never as a column or a literal,
    so it shows in no plan and no output."""

    def pseudonym(value):
        if value is None:
            return None
        digest = hmac.new(salt, value.encode("utf-8"), hashlib.sha256).digest()
        return digest[:16].hex()

    try:
        return F.udf(pseudonym, StringType(), useArrow=False)
    except TypeError:  # Spark before 3.5 has no Arrow UDFs to opt out of
        return F.udf(pseudonym, StringType())


def build_zones(records, policy, salt):
    """The eight zones as (DataFrame, columns that give processing order) pairs."""
    enforce = policy["consent_time"] == "enforce"
    # Processing order: file name, then content hash (for equal names), then record.
    records = records.withColumn("_order", F.struct("file", "file_sha256", "ordinal"))
    accepted = records.where(F.col("reason").isNull())

    def landing(source, columns):
        return accepted.where(F.col("source") == source).select("_order", *columns)

    customer_landing = landing("customer", CUSTOMER_COLUMNS)
    accelerometer_landing = landing("accelerometer", ACCELEROMETER_COLUMNS)
    step_trainer_landing = landing("step_trainer", STEP_TRAINER_COLUMNS)

    # The current record of each email: greatest lastUpdateDate (null is least), ties to
    # the later one in processing order. Consent is judged on it alone.
    latest_first = Window.partitionBy("email").orderBy(
        F.col("lastUpdateDate").desc_nulls_last(), F.col("_order").desc()
    )
    current = (
        customer_landing.withColumn("_rank", F.row_number().over(latest_first))
        .where(F.col("_rank") == 1)
        .drop("_rank")
    )
    # Trusted and curated zones feed later ones: kept once built, not rebuilt for each.
    consented = F.col("shareWithResearchAsOfDate").isNotNull()
    customer_trusted = current.where(consented).persist()

    consent = customer_trusted.select(
        F.col("email").alias("_owner"),
        F.col("shareWithResearchAsOfDate").alias("_consent"),
    )
    readings = accelerometer_landing.join(
        consent, F.col("user") == F.col("_owner"), "inner"
    )
    if enforce:
        readings = readings.where(F.col("timestamp") >= F.col("_consent"))
    accelerometer_trusted = readings.select("_order", *ACCELEROMETER_COLUMNS).persist()

    readers = accelerometer_trusted.select(F.col("user").alias("_reader")).distinct()
    customer_curated = customer_trusted.join(
        readers, F.col("email") == F.col("_reader"), "left_semi"
    ).persist()

    # A serial is trusted from the earliest consent among its curated owners.
    serial_consent = customer_curated.groupBy(
        F.col("serialNumber").alias("_serial")
    ).agg(F.min("shareWithResearchAsOfDate").alias("_consent"))
    steps = step_trainer_landing.join(
        serial_consent, F.col("serialNumber") == F.col("_serial"), "inner"
    )
    if enforce:
        steps = steps.where(F.col("sensorReadingTime") >= F.col("_consent"))
    step_trainer_trusted = steps.select("_order", *STEP_TRAINER_COLUMNS).persist()

    step_side = step_trainer_trusted.select(
        F.col("_order").alias("_step_order"), *STEP_TRAINER_COLUMNS
    )
    phone_side = accelerometer_trusted.select(
        F.col("_order").alias("_reading_order"), *ACCELEROMETER_COLUMNS
    )
    same_time = F.col("sensorReadingTime") == F.col("timestamp")
    if policy["ml_join"] == "device":
        # Every trusted reading's user is a curated customer, so this join loses none.
        devices = customer_curated.select(
            F.col("email").alias("_device_owner"),
            F.col("serialNumber").alias("_device"),
        )
        phone_side = phone_side.join(
            devices, F.col("user") == F.col("_device_owner"), "inner"
        )
        same_time = same_time & (F.col("serialNumber") == F.col("_device"))
    paired = step_side.join(phone_side, same_time, "inner")
    ml_columns = list(MACHINE_LEARNING_COLUMNS)
    if policy["pii"] == "pseudonymize":
        pseudonym = pseudonym_udf(salt)
        paired = paired.withColumn("serialNumber", pseudonym("serialNumber"))
        paired = paired.withColumn("user", pseudonym("user"))
    elif policy["pii"] == "drop":
        ml_columns = [c for c in ml_columns if c not in ("user", "serialNumber")]
    machine_learning_curated = paired.select(
        "_step_order", "_reading_order", *ml_columns
    ).persist()

    zones = {
        "customer_landing": customer_landing,
        "accelerometer_landing": accelerometer_landing,
        "step_trainer_landing": step_trainer_landing,
        "customer_trusted": customer_trusted,
        "accelerometer_trusted": accelerometer_trusted,
        "customer_curated": customer_curated,
        "step_trainer_trusted": step_trainer_trusted,
    }
    ordered = {zone: (frame, ["_order"]) for zone, frame in zones.items()}
    # Ordered by step reading, then accelerometer reading.
    ordered["machine_learning_curated"] = (
        machine_learning_curated,
        ["_step_order", "_reading_order"],
    )
    return ordered


# ---------------------------------------------------------------------------------------
# The job: arguments, Spark or Glue, reading, writing.
# ---------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="stedi_job.py",
        description="Build the eight STEDI zones from landing JSON, as Parquet.",
        allow_abbrev=False,
    )
    # Each option also takes the underscore spelling that Glue job parameters use.
    parser.add_argument(
        "--input",
        required=True,
        help="landing data: folders (searched recursively for .json, .jsonl, .ndjson "
        "and .gz) or files, comma-separated; local paths or s3:// URIs",
    )
    parser.add_argument(
        "--output", required=True, help="folder for OUTPUT/<zone>/ and OUTPUT/quarantine/"
    )
    parser.add_argument(
        "--salt",
        help="secret for pseudonyms; give the one `stedi run --salt` was given to get the "
        "same pseudonyms. Random when not given. Never written to any output.",
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), help="start from a preset")
    for knob, values in KNOBS.items():
        spellings = dict.fromkeys(["--" + knob.replace("_", "-"), "--" + knob])
        parser.add_argument(
            *spellings,
            dest=knob,
            choices=values,
            help=f"exported value: {EXPORTED_POLICY[knob]}",
        )
    # Glue adds its own arguments (--JOB_NAME, --TempDir, ...): they are not ours to check.
    args, _ = parser.parse_known_args(argv)
    policy = dict(PRESETS[args.preset] if args.preset else EXPORTED_POLICY)
    for knob in KNOBS:
        if getattr(args, knob) is not None:
            policy[knob] = getattr(args, knob)
    for knob, value in policy.items():
        if value not in KNOBS[knob]:
            parser.error(
                f"the policy's {knob} cannot be '{value}': use one of {KNOBS[knob]}"
            )
    return args, policy


def start_spark(argv):
    """The Spark session, and the Glue job when running on Glue."""
    if GlueContext is None:
        return SparkSession.builder.appName("stedi").getOrCreate(), None
    from pyspark.context import SparkContext

    glue = GlueContext(SparkContext.getOrCreate())
    job = Job(glue)
    options = getResolvedOptions(argv, ["JOB_NAME"])
    job.init(options["JOB_NAME"], options)
    return glue.spark_session, job


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def main(argv):
    args, policy = parse_args(argv[1:])
    salt = args.salt.encode("utf-8") if args.salt is not None else None
    if policy["pii"] == "pseudonymize" and salt is None:
        salt = secrets.token_bytes(32)
        print(
            "note: no --salt given: pseudonyms use a random salt, so they match no other "
            "run; pass --salt to make them reproducible",
            file=sys.stderr,
        )
    spark, job = start_spark(argv)
    spark.sparkContext.setLogLevel("WARN")
    inputs = [p.strip() for p in args.input.split(",") if p.strip()]
    output = args.output.rstrip("/")
    try:
        found = (
            spark.read.format("binaryFile")
            .option("recursiveFileLookup", "true")
            .load(inputs)
        )
    except AnalysisException as e:
        reason = str(e).strip().splitlines()[0]
        fail(f"cannot read --input {args.input}: {reason}; check that the path exists")
    files = found.where(F.lower(F.col("path")).rlike(INPUT_EXTENSIONS)).select(
        "path", "content"
    )
    # The listing is already made: looking at it needs no Spark job.
    if not any(re.search(INPUT_EXTENSIONS, path.lower()) for path in found.inputFiles()):
        fail(
            f"no input files found in {args.input}: pass folders of .json, .jsonl, "
            ".ndjson or .gz files"
        )

    def read(row):
        # The file's name without folders, as stedi names it.
        return read_file(row.path.rstrip("/").rsplit("/", 1)[-1], bytes(row.content))

    # The rows come from read_file, which builds them to the schema.
    records = spark.createDataFrame(
        files.rdd.flatMap(read), RECORD_SCHEMA, verifySchema=False
    ).persist()

    print(
        f"stedi {STEDI_VERSION} zones, policy: consent time {policy['consent_time']}, "
        f"ML join {policy['ml_join']}, PII {policy['pii']}"
    )
    counts = {}
    for zone, (frame, order) in build_zones(records, policy, salt).items():
        path = f"{output}/{zone}"
        frame.orderBy(*order).drop(*order).write.mode("overwrite").parquet(path)
        counts[zone] = spark.read.parquet(path).count()
    quarantine = records.where(F.col("reason").isNotNull()).orderBy(
        "file", "file_sha256", "line", "ordinal"
    )
    quarantine.select("file", "line", "source", "reason", "raw").write.mode(
        "overwrite"
    ).parquet(f"{output}/quarantine")
    counts["quarantine"] = spark.read.parquet(f"{output}/quarantine").count()

    print(f"{'zone':<26} {'rows':>10}")
    for zone, rows in counts.items():
        print(f"{zone:<26} {rows:>10}")
    print(f"wrote {len(ZONES)} zones and the quarantine as Parquet to {output}")
    records.unpersist()
    if job is not None:
        job.commit()


if __name__ == "__main__":
    main(sys.argv)
