DROP TABLE IF EXISTS jobs;
DROP TABLE IF EXISTS invitations;
DROP TABLE IF EXISTS user_tokens;
DROP TABLE IF EXISTS recovery_codes;
ALTER TABLE users DROP COLUMN IF EXISTS totp_secret, DROP COLUMN IF EXISTS totp_enabled_at,
  DROP COLUMN IF EXISTS totp_last_step, DROP COLUMN IF EXISTS two_factor_failures,
  DROP COLUMN IF EXISTS two_factor_locked_until;
ALTER TABLE organizations DROP COLUMN IF EXISTS address, DROP COLUMN IF EXISTS tax_id,
  DROP COLUMN IF EXISTS invoice_prefix, DROP COLUMN IF EXISTS quotation_prefix,
  DROP COLUMN IF EXISTS payment_terms_days, DROP COLUMN IF EXISTS paper_size,
  DROP COLUMN IF EXISTS require_two_factor, DROP COLUMN IF EXISTS logo,
  DROP COLUMN IF EXISTS logo_content_type, DROP COLUMN IF EXISTS logo_updated_at;
