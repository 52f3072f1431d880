-- Athena tables over the zones written by stedi_job.py (stedi {{version}}).
-- Replace s3://YOUR-BUCKET/stedi with the job's --output, then run each statement.
-- Column names match the Parquet files case-insensitively.

CREATE DATABASE IF NOT EXISTS stedi;

CREATE EXTERNAL TABLE IF NOT EXISTS stedi.customer_landing (
{{customer_columns}}
)
STORED AS PARQUET
LOCATION 's3://YOUR-BUCKET/stedi/customer_landing/';

CREATE EXTERNAL TABLE IF NOT EXISTS stedi.accelerometer_landing (
{{accelerometer_columns}}
)
STORED AS PARQUET
LOCATION 's3://YOUR-BUCKET/stedi/accelerometer_landing/';

CREATE EXTERNAL TABLE IF NOT EXISTS stedi.step_trainer_landing (
{{step_trainer_columns}}
)
STORED AS PARQUET
LOCATION 's3://YOUR-BUCKET/stedi/step_trainer_landing/';

CREATE EXTERNAL TABLE IF NOT EXISTS stedi.customer_trusted (
{{customer_columns}}
)
STORED AS PARQUET
LOCATION 's3://YOUR-BUCKET/stedi/customer_trusted/';

CREATE EXTERNAL TABLE IF NOT EXISTS stedi.accelerometer_trusted (
{{accelerometer_columns}}
)
STORED AS PARQUET
LOCATION 's3://YOUR-BUCKET/stedi/accelerometer_trusted/';

CREATE EXTERNAL TABLE IF NOT EXISTS stedi.customer_curated (
{{customer_columns}}
)
STORED AS PARQUET
LOCATION 's3://YOUR-BUCKET/stedi/customer_curated/';

CREATE EXTERNAL TABLE IF NOT EXISTS stedi.step_trainer_trusted (
{{step_trainer_columns}}
)
STORED AS PARQUET
LOCATION 's3://YOUR-BUCKET/stedi/step_trainer_trusted/';

-- PII {{pii}}: {{pii_note}}
CREATE EXTERNAL TABLE IF NOT EXISTS stedi.machine_learning_curated (
{{machine_learning_columns}}
)
STORED AS PARQUET
LOCATION 's3://YOUR-BUCKET/stedi/machine_learning_curated/';

-- Records that could not be accepted, with the file, line and reason.
CREATE EXTERNAL TABLE IF NOT EXISTS stedi.quarantine (
  `file` string,
  `line` bigint,
  `source` string,
  `reason` string,
  `raw` string
)
STORED AS PARQUET
LOCATION 's3://YOUR-BUCKET/stedi/quarantine/';
