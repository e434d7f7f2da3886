DROP TRIGGER invoices_list_tally_insert ON invoices;
DROP TRIGGER invoices_list_tally_update ON invoices;
DROP TRIGGER invoices_list_tally_delete ON invoices;
DROP FUNCTION invoices_list_tally();
DROP TABLE invoice_tallies;
