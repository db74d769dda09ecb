"""Registration (påmelding): rules, transactions, mail, calendar entries and exports."""
