-- Fill the landing tables from JSON Lines files (native DuckDB only: the json
-- extension is built in). The file lists are variables set by the caller, already
-- in processing order (file name, then path).
--
-- ignore_errors turns a malformed line or a wrongly typed value into NULLs; the
-- required-field filters then keep such records out of landing, which is where
-- stedi quarantines them. Not reproduced: keys match case-sensitively here, and a
-- wrongly typed optional field becomes NULL instead of quarantining the record.

INSERT INTO customer_landing
SELECT * FROM read_json(
    getvariable('customer_files'),
    format = 'newline_delimited',
    ignore_errors = true,
    columns = {
        customerName: 'VARCHAR',
        email: 'VARCHAR',
        phone: 'VARCHAR',
        birthDay: 'VARCHAR',
        serialNumber: 'VARCHAR',
        registrationDate: 'BIGINT',
        lastUpdateDate: 'BIGINT',
        shareWithResearchAsOfDate: 'BIGINT',
        shareWithPublicAsOfDate: 'BIGINT',
        shareWithFriendsAsOfDate: 'BIGINT'
    }
)
WHERE email IS NOT NULL AND serialNumber IS NOT NULL;

INSERT INTO accelerometer_landing
SELECT * FROM read_json(
    getvariable('accelerometer_files'),
    format = 'newline_delimited',
    ignore_errors = true,
    columns = {"user": 'VARCHAR', "timestamp": 'BIGINT', x: 'DOUBLE', y: 'DOUBLE', z: 'DOUBLE'}
)
WHERE "user" IS NOT NULL AND "timestamp" IS NOT NULL
    AND x IS NOT NULL AND y IS NOT NULL AND z IS NOT NULL;

INSERT INTO step_trainer_landing
SELECT * FROM read_json(
    getvariable('step_trainer_files'),
    format = 'newline_delimited',
    ignore_errors = true,
    columns = {sensorReadingTime: 'BIGINT', serialNumber: 'VARCHAR', distanceFromObject: 'BIGINT'}
)
WHERE sensorReadingTime IS NOT NULL AND serialNumber IS NOT NULL
    AND distanceFromObject IS NOT NULL;
