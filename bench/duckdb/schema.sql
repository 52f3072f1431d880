-- Landing tables: one row per accepted record, in processing order (rowid).
-- Column names and types follow SPEC section 2.
CREATE TABLE customer_landing (
    customerName VARCHAR,
    email VARCHAR,
    phone VARCHAR,
    birthDay VARCHAR,
    serialNumber VARCHAR,
    registrationDate BIGINT,
    lastUpdateDate BIGINT,
    shareWithResearchAsOfDate BIGINT,
    shareWithPublicAsOfDate BIGINT,
    shareWithFriendsAsOfDate BIGINT
);

CREATE TABLE accelerometer_landing (
    "user" VARCHAR,
    "timestamp" BIGINT,
    x DOUBLE,
    y DOUBLE,
    z DOUBLE
);

CREATE TABLE step_trainer_landing (
    sensorReadingTime BIGINT,
    serialNumber VARCHAR,
    distanceFromObject BIGINT
);
