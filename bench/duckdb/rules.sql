-- The zone rules of SPEC section 3, over the landing tables of schema.sql.
--
-- Policy knobs are variables set by the caller before this runs:
--   consent_time  'enforce' | 'ignore'
--   ml_join       'device'  | 'timestamp'
--   pii           'keep'    | 'pseudonymize' | 'drop'
--   hmac_ipad, hmac_opad   BLOBs: the salt padded to 64 bytes, XORed with 0x36 / 0x5c
-- Presets: strict = enforce, device, pseudonymize; rubric = ignore, timestamp, keep.
--
-- "Processing order" is the landing rowid (files in name order, then line order);
-- every derived zone carries it as ord so the ML output can be ordered by it.

-- One current record per email: greatest lastUpdateDate, ties to the later record.
CREATE TABLE customer_current AS
SELECT rowid AS ord, *
FROM customer_landing
QUALIFY row_number() OVER (
    PARTITION BY email ORDER BY lastUpdateDate DESC NULLS LAST, rowid DESC
) = 1;

-- Consent is judged on the current record alone (null and absent are the same).
CREATE TABLE customer_trusted AS
SELECT * FROM customer_current
WHERE shareWithResearchAsOfDate IS NOT NULL;

CREATE TABLE accelerometer_trusted AS
SELECT a.rowid AS ord, a.*
FROM accelerometer_landing a
JOIN customer_trusted c ON a."user" = c.email
WHERE getvariable('consent_time') = 'ignore'
   OR a."timestamp" >= c.shareWithResearchAsOfDate;

CREATE TABLE customer_curated AS
SELECT * FROM customer_trusted c
WHERE c.email IN (SELECT "user" FROM accelerometer_trusted);

-- A serial may have several curated owners: one consenting in time is enough.
CREATE TABLE step_trainer_trusted AS
SELECT s.rowid AS ord, s.*
FROM step_trainer_landing s
WHERE EXISTS (
    SELECT 1 FROM customer_curated c
    WHERE c.serialNumber = s.serialNumber
      AND (getvariable('consent_time') = 'ignore'
           OR s.sensorReadingTime >= c.shareWithResearchAsOfDate)
);

-- device: only the phone of a customer who owns the step reading's serial;
-- timestamp: any trusted phone reading at the same millisecond.
CREATE TABLE machine_learning_curated AS
SELECT s.sensorReadingTime, s.serialNumber, s.distanceFromObject,
       a."user", a."timestamp", a.x, a.y, a.z,
       s.ord AS step_ord, a.ord AS reading_ord
FROM step_trainer_trusted s
JOIN accelerometer_trusted a ON a."timestamp" = s.sensorReadingTime
WHERE getvariable('ml_join') = 'timestamp'
   OR EXISTS (
       SELECT 1 FROM customer_curated c
       WHERE c.email = a."user" AND c.serialNumber = s.serialNumber
   );

-- First 16 bytes, lowercase hex, of HMAC-SHA256(salt, value).
CREATE MACRO pseudonym(value) AS left(
    sha256(getvariable('hmac_opad')
           || unhex(sha256(getvariable('hmac_ipad') || encode(value)))),
    32
);

-- Every ML user and serial belongs to a curated customer, so pseudonyms are
-- computed once per customer rather than once per row.
CREATE VIEW machine_learning_output AS
WITH users AS (
    SELECT email AS value, pseudonym(email) AS pseudonym
    FROM customer_curated
    WHERE getvariable('pii') = 'pseudonymize'
), serials AS (
    SELECT DISTINCT serialNumber AS value, pseudonym(serialNumber) AS pseudonym
    FROM customer_curated
    WHERE getvariable('pii') = 'pseudonymize'
)
SELECT m.sensorReadingTime,
       CASE WHEN getvariable('pii') = 'pseudonymize'
            THEN ps.pseudonym ELSE m.serialNumber END AS serialNumber,
       m.distanceFromObject,
       CASE WHEN getvariable('pii') = 'pseudonymize'
            THEN pu.pseudonym ELSE m."user" END AS "user",
       m."timestamp", m.x, m.y, m.z
FROM machine_learning_curated m
LEFT JOIN serials ps ON ps.value = m.serialNumber
LEFT JOIN users pu ON pu.value = m."user"
ORDER BY m.step_ord, m.reading_ord;
