-- A refused sign-in (over a throttling limit) is noted once per account and address per
-- window, so that the audit log records the lock-out once rather than every attempt a
-- script keeps making. Refusals are not failures: they count toward no limit.
ALTER TABLE login_failures ADD COLUMN refused boolean NOT NULL DEFAULT false;
