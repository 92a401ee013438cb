-- issue 11 item 6: names are for people. `users.name` stays the unique
-- handle (login; ASCII letters, digits, `-`, `_`, `.`); a user's display name
-- is free text in any script, spaces included (checked in host/src/text.rs).
-- Group names were already free-form columns; only the API's rule changes.
ALTER TABLE users ADD COLUMN display_name TEXT;
