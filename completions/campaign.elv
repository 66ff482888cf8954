
use builtin;
use str;

set edit:completion:arg-completer[campaign] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'campaign'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'campaign'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create the campaigns database; with --encrypt, an encrypted one protected by a passphrase'
            cand account 'Set or show who you are: your name and email sign campaigns and emails'
            cand new 'Start a new petition (saved as a draft)'
            cand review 'Read a petition as a signer would, add its picture and launch it'
            cand list 'List your campaigns with their status and signature counts'
            cand show 'Show one campaign: its text, counts, edit history and deliveries'
            cand edit 'Change a campaign''s text (same flags as `new`; opens $EDITOR without flags)'
            cand offline 'Take a petition offline: it can no longer be shared or signed online (paper sheets already collected can still be entered and delivered)'
            cand online 'Bring an offline petition back online'
            cand share 'Print ready-to-post share texts and links, or invite friends by email'
            cand admins 'List, invite or remove the co-organizers of a campaign'
            cand paper-form 'Print paper signature forms (PDF) with numbered, traceable sheets'
            cand enter-signatures 'Type in paper signatures, or import a CSV of signatures'
            cand signer 'Correct or remove a saved signer by sheet and line (OAK-0007:5), kept in the history'
            cand export 'Write a campaign''s signers to CSV or JSON lines'
            cand deliver 'Write the petition as a PDF for its target, and optionally email it'
            cand outbox 'List the emails waiting to be sent, or send them'
            cand encrypt 'Encrypt an existing database with a passphrase (every row kept; the plain file is replaced only after the encrypted copy is checked)'
            cand passphrase 'Change the passphrase of the encrypted database (the data is not re-encrypted)'
            cand completions 'Print a shell completion script'
            cand man 'Write man pages (for packagers)'
            cand team 'Give people of the team their own login to a shared PostgreSQL database'
            cand merge 'Bring in another campaign database (a laptop''s file, or a postgres:// URL): everything it has that this one lacks, once; conflicts are reported, not overwritten'
            cand purge 'Delete a delivered campaign''s signers, keeping its counts and delivery records'
            cand forget 'Remove one person from every campaign (they withdrew; the counts drop) and keep a keyed hash so no later import brings them back'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'campaign;init'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --encrypt 'Encrypt the database with a passphrase (asked twice on a terminal; or --passphrase-fd / CAMPAIGN_PASSPHRASE_FILE). A key file is written beside it: without that file and the passphrase nobody can read the data, not even you'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;account'= {
            cand --name 'Your name, as signers and targets will see it'
            cand --email 'Your email: campaigns you create are yours, and emails come from it'
            cand --organization 'Your organization, printed on forms and deliveries'
            cand --lang 'Default language for new campaigns'
            cand --country 'Your country code (e.g. US), the default region for phone numbers'
            cand --smtp-url 'SMTP server for sending email, e.g. smtps://user:pass@host:465 or smtp://user:pass@host:587 (STARTTLS; a password is never sent in clear text to another machine unless the URL ends in ?tls=none). Add ?timeout=SECONDS to wait longer than 10 s'
            cand --reply-to 'Address replies should go to [default: your email]'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;new'= {
            cand --title 'Petition title: short and specific, e.g. "Make Oakland a sanctuary city"'
            cand --target 'Who can give you what you want: a person or body, e.g. "Mayor Barbara Lee"'
            cand --ask 'What exactly the target should do'
            cand --why 'Why it matters: the reason people will sign'
            cand --location 'Where the campaign is, e.g. "Oakland, CA"'
            cand --postcode 'ZIP or postcode of the place'
            cand --country 'Country code (e.g. US, MX), used for phone numbers and ZIP codes [default: US]'
            cand --goal 'How many signatures you aim for'
            cand --url 'Web address where people can sign online'
            cand --lang 'Language of the petition''s documents, emails and share texts'
            cand --retain 'Delete the signers'' personal data this long after the last delivery, e.g. 180d, 26w, 6m or 1y (counts are kept; see `campaign purge --due`); `none` to clear'
            cand --template 'Prefill target, ask and why for a kind of #HereToStay campaign'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --national 'The campaign is national rather than about one place'
            cand --global 'The campaign is global'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;review'= {
            cand --picture 'Add or replace the picture: a PNG or JPEG, at least 600x315 px, at most 10 MB'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --launch 'Launch the petition: a draft becomes live and can collect and share'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;list'= {
            cand --status 'Only campaigns with this status'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;show'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;edit'= {
            cand --title 'Petition title: short and specific, e.g. "Make Oakland a sanctuary city"'
            cand --target 'Who can give you what you want: a person or body, e.g. "Mayor Barbara Lee"'
            cand --ask 'What exactly the target should do'
            cand --why 'Why it matters: the reason people will sign'
            cand --location 'Where the campaign is, e.g. "Oakland, CA"'
            cand --postcode 'ZIP or postcode of the place'
            cand --country 'Country code (e.g. US, MX), used for phone numbers and ZIP codes [default: US]'
            cand --goal 'How many signatures you aim for'
            cand --url 'Web address where people can sign online'
            cand --lang 'Language of the petition''s documents, emails and share texts'
            cand --retain 'Delete the signers'' personal data this long after the last delivery, e.g. 180d, 26w, 6m or 1y (counts are kept; see `campaign purge --due`); `none` to clear'
            cand --in 'Set the petition''s text in another language instead (with --title, --target, --ask, --why): documents, share texts and emails in LANG use it, and what is not translated stays in the campaign''s own language'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --national 'The campaign is national rather than about one place'
            cand --global 'The campaign is global'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;offline'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;online'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;share'= {
            cand --channel 'Which channel to print'
            cand --lang 'Language of the texts and invitations [default: the campaign''s language]'
            cand --invite 'Invite a friend by email (repeat for each friend)'
            cand --invite-file 'Invite the friends in a CSV file with `name` and `email` columns'
            cand --message 'Your own words for the invitations, shown right after the greeting'
            cand --card 'Write the share card to this PNG file instead of printing texts: the 1200x630 picture a post of the link shows (the campaign picture cropped to fill, with the title). Works for drafts too, to see it before launching'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --send 'Send the invitations now through your SMTP server instead of leaving them in the outbox'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;admins'= {
            cand --add 'Invite a co-organizer by email (repeat for more); writes an invitation email'
            cand --remove 'Remove an admin by email (repeat for more); the owner cannot be removed'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --send 'Send the invitations now through your SMTP server instead of leaving them in the outbox'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;paper-form'= {
            cand -o 'Where to write the PDF [default: <slug>-paper-form-<first sheet id>.pdf in the documents folder]'
            cand --out 'Where to write the PDF [default: <slug>-paper-form-<first sheet id>.pdf in the documents folder]'
            cand --sheets 'How many sheets (pages) to print; each gets a new sheet id'
            cand --lines 'Signature lines per sheet [default: as many as are comfortable to write in, 6-10]'
            cand --paper 'Paper size, printed landscape [default: letter for a campaign (or account) in the US, Canada, Mexico and the other countries that use it, A4 elsewhere]'
            cand --lang 'Language of the form''s own words: en, es, or both on one page [default: the campaign''s language]'
            cand --short-why 'A shorter why to print on the sheets instead of the petition''s own, when that one does not fit (the petition is not changed)'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --with-instructions 'Start the PDF with a page for organizers: how to hand the sheets out, what the boxes mean, and how to type the sheets in (the sheets never name the tool)'
            cand --allow-unprintable 'Print the form even when its text has characters no font here can draw, each printed as the replacement mark U+FFFD. Without it, nothing is printed and the characters are listed'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;enter-signatures'= {
            cand --from 'Import this CSV file instead of typing (`-` reads standard input)'
            cand --rejects 'Write the rows that could not be imported to FILE as they were (every column), with their row number and the reason: fix them in a spreadsheet and import FILE again'
            cand --encoding 'The file''s character encoding, when detection gets it wrong (e.g. windows-1252, latin1, utf-8, utf-16le) [default: detected]'
            cand --source 'Where these signatures were collected [default: online for imports, paper when typing]'
            cand --sheet 'Sheet id to start typing from (as printed in the sheet''s footer, e.g. OAK-0007)'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;signer'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand edit 'Change a signer''s fields (asks for each on a terminal when no field is given)'
            cand remove 'Remove a signer (asks first; --yes without a terminal)'
            cand history 'List every correction and removal, oldest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'campaign;signer;edit'= {
            cand --name 'New name'
            cand --email 'New email ("" clears it)'
            cand --postcode 'New ZIP/postcode, kept as typed ("" clears it)'
            cand --phone 'New phone ("" clears it)'
            cand --opt-in 'Whether they joined the mailing list'
            cand --private 'Whether they are counted without their name shown'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;signer;remove'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;signer;history'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;signer;help'= {
            cand edit 'Change a signer''s fields (asks for each on a terminal when no field is given)'
            cand remove 'Remove a signer (asks first; --yes without a terminal)'
            cand history 'List every correction and removal, oldest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'campaign;signer;help;edit'= {
        }
        &'campaign;signer;help;remove'= {
        }
        &'campaign;signer;help;history'= {
        }
        &'campaign;signer;help;help'= {
        }
        &'campaign;export'= {
            cand --format 'File format [default: csv; jsonl with --json]'
            cand -o 'Write to FILE instead of standard output. An existing FILE is replaced only once the export is complete (never the database or the account file)'
            cand --out 'Write to FILE instead of standard output. An existing FILE is replaced only once the export is complete (never the database or the account file)'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --opted-in 'Only signers who asked to join the mailing list'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;deliver'= {
            cand --status 'With --all: only campaigns with this status (without it, every one but drafts)'
            cand --out 'Where to write: a file for one campaign, a folder for several or with --split-by [default: the documents folder under the data folder]. In a folder, a name already taken gets a number (...-2026-12-01-2.pdf): an earlier delivery is never replaced. A FILE an earlier delivery wrote is refused (its record keeps that file''s hash); any other existing FILE is replaced once the new PDF is complete'
            cand --show 'How much of each signer the target sees. Signers who asked not to be named are counted, never named'
            cand --include 'Also show these contact details (comma-separated: email,phone); the cover says so. Never shown otherwise. On a terminal, first says how many signers'' details the target will see and asks; without one, needs --yes'
            cand --split-by 'Write one PDF per postcode (e.g. one per council district), each named after its postcode: letters, digits and `-` as typed, a space as `_`, anything else as %XX (`a/b` is `a%2Fb`); never two postcodes in one file'
            cand --lang 'Language of the document''s own words [default: the campaign''s language]'
            cand --paper 'Paper size [default: letter for a campaign (or account) in the US, Canada, Mexico and the other countries that use it, A4 elsewhere]'
            cand --email-to 'Email the PDF to the target at this address. The message waits in the outbox (`campaign outbox`) unless --send is given'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --all 'Deliver every launched campaign (drafts only with --status draft)'
            cand --include-sender-email 'Print your email under your name on the cover letter (it is not printed otherwise)'
            cand --allow-unprintable 'Deliver even when a name has characters no font here can draw: the name is printed as "[name not printable]" and the cover counts those rows. Without it, nothing is written and the rows and characters are listed'
            cand --send 'With --email-to: send now through SMTP (`campaign account --smtp-url`); a failed send stays in the outbox with the reason'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;outbox'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --send 'Send every waiting email through your SMTP server (`campaign account --smtp-url` or $CAMPAIGN_SMTP_URL); sent ones move to the sent folder, failed ones stay with the reason'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;encrypt'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;passphrase'= {
            cand --new-passphrase-fd 'Read the new passphrase from this open file descriptor (e.g. `--new-passphrase-fd 4 4< file`) instead of asking twice on the terminal'
            cand --new-passphrase-file 'Read the new passphrase from this file (the first line; chmod 600)'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;completions'= {
            cand --dir 'Write into this folder (under the shell''s usual file name) instead of stdout'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;man'= {
            cand --dir 'Folder for the pages'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;team'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Add a person: prints the URL they connect with (its password is shown this once)'
            cand list 'List the people of the team, their role and campaigns (never a password)'
            cand remove 'Remove a person: their login stops working at once (asks first; --yes without a terminal)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'campaign;team;add'= {
            cand --role 'organizer: everything on their campaigns; volunteer: adds signatures, reads none'
            cand --campaign 'A campaign (slug or id) they work on; repeat for more. Without it an organizer works on every campaign; a volunteer needs at least one'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;team;list'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;team;remove'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;team;help'= {
            cand add 'Add a person: prints the URL they connect with (its password is shown this once)'
            cand list 'List the people of the team, their role and campaigns (never a password)'
            cand remove 'Remove a person: their login stops working at once (asks first; --yes without a terminal)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'campaign;team;help;add'= {
        }
        &'campaign;team;help;list'= {
        }
        &'campaign;team;help;remove'= {
        }
        &'campaign;team;help;help'= {
        }
        &'campaign;merge'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --dry-run 'Show what would come in, and change nothing'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;purge'= {
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --due 'Purge every campaign whose retention period (--retain) has run out since its last delivery'
            cand --dry-run 'Show what would be removed and kept; change nothing'
            cand --discard-unsent 'Also delete this campaign''s emails still waiting in the outbox (never sent)'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;forget'= {
            cand --email 'The person''s email'
            cand --name 'The person''s name, as they signed (with --postcode)'
            cand --postcode 'Their postcode (with --name)'
            cand --db 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]'
            cand --passphrase-fd 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)'
            cand --passphrase-file 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)'
            cand --dry-run 'Show where they appear; change nothing'
            cand --json 'Print machine-readable JSON on stdout instead of tables and text'
            cand --no-input 'Never prompt: a missing value is an error naming the flag to pass'
            cand -y 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand --yes 'Answer yes to confirmations (editing a petition people already signed, ...)'
            cand -q 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand --quiet 'Print less on stderr: no status lines or progress bars (errors still show)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'campaign;help'= {
            cand init 'Create the campaigns database; with --encrypt, an encrypted one protected by a passphrase'
            cand account 'Set or show who you are: your name and email sign campaigns and emails'
            cand new 'Start a new petition (saved as a draft)'
            cand review 'Read a petition as a signer would, add its picture and launch it'
            cand list 'List your campaigns with their status and signature counts'
            cand show 'Show one campaign: its text, counts, edit history and deliveries'
            cand edit 'Change a campaign''s text (same flags as `new`; opens $EDITOR without flags)'
            cand offline 'Take a petition offline: it can no longer be shared or signed online (paper sheets already collected can still be entered and delivered)'
            cand online 'Bring an offline petition back online'
            cand share 'Print ready-to-post share texts and links, or invite friends by email'
            cand admins 'List, invite or remove the co-organizers of a campaign'
            cand paper-form 'Print paper signature forms (PDF) with numbered, traceable sheets'
            cand enter-signatures 'Type in paper signatures, or import a CSV of signatures'
            cand signer 'Correct or remove a saved signer by sheet and line (OAK-0007:5), kept in the history'
            cand export 'Write a campaign''s signers to CSV or JSON lines'
            cand deliver 'Write the petition as a PDF for its target, and optionally email it'
            cand outbox 'List the emails waiting to be sent, or send them'
            cand encrypt 'Encrypt an existing database with a passphrase (every row kept; the plain file is replaced only after the encrypted copy is checked)'
            cand passphrase 'Change the passphrase of the encrypted database (the data is not re-encrypted)'
            cand completions 'Print a shell completion script'
            cand man 'Write man pages (for packagers)'
            cand team 'Give people of the team their own login to a shared PostgreSQL database'
            cand merge 'Bring in another campaign database (a laptop''s file, or a postgres:// URL): everything it has that this one lacks, once; conflicts are reported, not overwritten'
            cand purge 'Delete a delivered campaign''s signers, keeping its counts and delivery records'
            cand forget 'Remove one person from every campaign (they withdrew; the counts drop) and keep a keyed hash so no later import brings them back'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'campaign;help;init'= {
        }
        &'campaign;help;account'= {
        }
        &'campaign;help;new'= {
        }
        &'campaign;help;review'= {
        }
        &'campaign;help;list'= {
        }
        &'campaign;help;show'= {
        }
        &'campaign;help;edit'= {
        }
        &'campaign;help;offline'= {
        }
        &'campaign;help;online'= {
        }
        &'campaign;help;share'= {
        }
        &'campaign;help;admins'= {
        }
        &'campaign;help;paper-form'= {
        }
        &'campaign;help;enter-signatures'= {
        }
        &'campaign;help;signer'= {
            cand edit 'Change a signer''s fields (asks for each on a terminal when no field is given)'
            cand remove 'Remove a signer (asks first; --yes without a terminal)'
            cand history 'List every correction and removal, oldest first'
        }
        &'campaign;help;signer;edit'= {
        }
        &'campaign;help;signer;remove'= {
        }
        &'campaign;help;signer;history'= {
        }
        &'campaign;help;export'= {
        }
        &'campaign;help;deliver'= {
        }
        &'campaign;help;outbox'= {
        }
        &'campaign;help;encrypt'= {
        }
        &'campaign;help;passphrase'= {
        }
        &'campaign;help;completions'= {
        }
        &'campaign;help;man'= {
        }
        &'campaign;help;team'= {
            cand add 'Add a person: prints the URL they connect with (its password is shown this once)'
            cand list 'List the people of the team, their role and campaigns (never a password)'
            cand remove 'Remove a person: their login stops working at once (asks first; --yes without a terminal)'
        }
        &'campaign;help;team;add'= {
        }
        &'campaign;help;team;list'= {
        }
        &'campaign;help;team;remove'= {
        }
        &'campaign;help;merge'= {
        }
        &'campaign;help;purge'= {
        }
        &'campaign;help;forget'= {
        }
        &'campaign;help;help'= {
        }
    ]
    $completions[$command]
}
