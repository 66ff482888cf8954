# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_campaign_global_optspecs
    string join \n db= json no-input y/yes q/quiet passphrase-fd= passphrase-file= h/help V/version
end

function __fish_campaign_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_campaign_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_campaign_using_subcommand
    set -l cmd (__fish_campaign_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c campaign -n "__fish_campaign_needs_command" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_needs_command" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_needs_command" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_needs_command" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_needs_command" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_needs_command" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_needs_command" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c campaign -n "__fish_campaign_needs_command" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "init" -d 'Create the campaigns database; with --encrypt, an encrypted one protected by a passphrase'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "account" -d 'Set or show who you are: your name and email sign campaigns and emails'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "new" -d 'Start a new petition (saved as a draft)'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "review" -d 'Read a petition as a signer would, add its picture and launch it'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "list" -d 'List your campaigns with their status and signature counts'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "show" -d 'Show one campaign: its text, counts, edit history and deliveries'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "edit" -d 'Change a campaign\'s text (same flags as `new`; opens $EDITOR without flags)'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "offline" -d 'Take a petition offline: it can no longer be shared or signed online (paper sheets already collected can still be entered and delivered)'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "online" -d 'Bring an offline petition back online'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "share" -d 'Print ready-to-post share texts and links, or invite friends by email'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "admins" -d 'List, invite or remove the co-organizers of a campaign'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "paper-form" -d 'Print paper signature forms (PDF) with numbered, traceable sheets'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "enter-signatures" -d 'Type in paper signatures, or import a CSV of signatures'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "signer" -d 'Correct or remove a saved signer by sheet and line (OAK-0007:5), kept in the history'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "export" -d 'Write a campaign\'s signers to CSV or JSON lines'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "deliver" -d 'Write the petition as a PDF for its target, and optionally email it'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "outbox" -d 'List the emails waiting to be sent, or send them'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "encrypt" -d 'Encrypt an existing database with a passphrase (every row kept; the plain file is replaced only after the encrypted copy is checked)'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "passphrase" -d 'Change the passphrase of the encrypted database (the data is not re-encrypted)'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "man" -d 'Write man pages (for packagers)'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "team" -d 'Give people of the team their own login to a shared PostgreSQL database'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "merge" -d 'Bring in another campaign database (a laptop\'s file, or a postgres:// URL): everything it has that this one lacks, once; conflicts are reported, not overwritten'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "purge" -d 'Delete a delivered campaign\'s signers, keeping its counts and delivery records'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "forget" -d 'Remove one person from every campaign (they withdrew; the counts drop) and keep a keyed hash so no later import brings them back'
complete -c campaign -n "__fish_campaign_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c campaign -n "__fish_campaign_using_subcommand init" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand init" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand init" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand init" -l encrypt -d 'Encrypt the database with a passphrase (asked twice on a terminal; or --passphrase-fd / CAMPAIGN_PASSPHRASE_FILE). A key file is written beside it: without that file and the passphrase nobody can read the data, not even you'
complete -c campaign -n "__fish_campaign_using_subcommand init" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand init" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand init" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand init" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand init" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand init" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand account" -l name -d 'Your name, as signers and targets will see it' -r
complete -c campaign -n "__fish_campaign_using_subcommand account" -l email -d 'Your email: campaigns you create are yours, and emails come from it' -r
complete -c campaign -n "__fish_campaign_using_subcommand account" -l organization -d 'Your organization, printed on forms and deliveries' -r
complete -c campaign -n "__fish_campaign_using_subcommand account" -l lang -d 'Default language for new campaigns' -r -f -a "en\t''
es\t''"
complete -c campaign -n "__fish_campaign_using_subcommand account" -l country -d 'Your country code (e.g. US), the default region for phone numbers' -r
complete -c campaign -n "__fish_campaign_using_subcommand account" -l smtp-url -d 'SMTP server for sending email, e.g. smtps://user:pass@host:465 or smtp://user:pass@host:587 (STARTTLS; a password is never sent in clear text to another machine unless the URL ends in ?tls=none). Add ?timeout=SECONDS to wait longer than 10 s' -r
complete -c campaign -n "__fish_campaign_using_subcommand account" -l reply-to -d 'Address replies should go to [default: your email]' -r
complete -c campaign -n "__fish_campaign_using_subcommand account" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand account" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand account" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand account" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand account" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand account" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand account" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand account" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand account" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand new" -l title -d 'Petition title: short and specific, e.g. "Make Oakland a sanctuary city"' -r
complete -c campaign -n "__fish_campaign_using_subcommand new" -l target -d 'Who can give you what you want: a person or body, e.g. "Mayor Barbara Lee"' -r
complete -c campaign -n "__fish_campaign_using_subcommand new" -l ask -d 'What exactly the target should do' -r
complete -c campaign -n "__fish_campaign_using_subcommand new" -l why -d 'Why it matters: the reason people will sign' -r
complete -c campaign -n "__fish_campaign_using_subcommand new" -l location -d 'Where the campaign is, e.g. "Oakland, CA"' -r
complete -c campaign -n "__fish_campaign_using_subcommand new" -l postcode -d 'ZIP or postcode of the place' -r
complete -c campaign -n "__fish_campaign_using_subcommand new" -l country -d 'Country code (e.g. US, MX), used for phone numbers and ZIP codes [default: US]' -r
complete -c campaign -n "__fish_campaign_using_subcommand new" -l goal -d 'How many signatures you aim for' -r
complete -c campaign -n "__fish_campaign_using_subcommand new" -l url -d 'Web address where people can sign online' -r
complete -c campaign -n "__fish_campaign_using_subcommand new" -l lang -d 'Language of the petition\'s documents, emails and share texts' -r -f -a "en\t''
es\t''"
complete -c campaign -n "__fish_campaign_using_subcommand new" -l retain -d 'Delete the signers\' personal data this long after the last delivery, e.g. 180d, 26w, 6m or 1y (counts are kept; see `campaign purge --due`); `none` to clear' -r
complete -c campaign -n "__fish_campaign_using_subcommand new" -l template -d 'Prefill target, ask and why for a kind of #HereToStay campaign' -r -f -a "city\t'A sanctuary city: the council refuses to help deportations'
campus\t'A sanctuary school, college or university campus'
classroom\t'Undocu-friendly classrooms and educators'"
complete -c campaign -n "__fish_campaign_using_subcommand new" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand new" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand new" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand new" -l national -d 'The campaign is national rather than about one place'
complete -c campaign -n "__fish_campaign_using_subcommand new" -l global -d 'The campaign is global'
complete -c campaign -n "__fish_campaign_using_subcommand new" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand new" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand new" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand new" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand new" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c campaign -n "__fish_campaign_using_subcommand new" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand review" -l picture -d 'Add or replace the picture: a PNG or JPEG, at least 600x315 px, at most 10 MB' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand review" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand review" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand review" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand review" -l launch -d 'Launch the petition: a draft becomes live and can collect and share'
complete -c campaign -n "__fish_campaign_using_subcommand review" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand review" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand review" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand review" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand review" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand review" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand list" -l status -d 'Only campaigns with this status' -r -f -a "draft\t''
live\t''
offline\t''"
complete -c campaign -n "__fish_campaign_using_subcommand list" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand list" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand list" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand list" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand list" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand list" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand list" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand list" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand list" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand show" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand show" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand show" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand show" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand show" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand show" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand show" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand show" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand show" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l title -d 'Petition title: short and specific, e.g. "Make Oakland a sanctuary city"' -r
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l target -d 'Who can give you what you want: a person or body, e.g. "Mayor Barbara Lee"' -r
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l ask -d 'What exactly the target should do' -r
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l why -d 'Why it matters: the reason people will sign' -r
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l location -d 'Where the campaign is, e.g. "Oakland, CA"' -r
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l postcode -d 'ZIP or postcode of the place' -r
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l country -d 'Country code (e.g. US, MX), used for phone numbers and ZIP codes [default: US]' -r
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l goal -d 'How many signatures you aim for' -r
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l url -d 'Web address where people can sign online' -r
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l lang -d 'Language of the petition\'s documents, emails and share texts' -r -f -a "en\t''
es\t''"
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l retain -d 'Delete the signers\' personal data this long after the last delivery, e.g. 180d, 26w, 6m or 1y (counts are kept; see `campaign purge --due`); `none` to clear' -r
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l in -d 'Set the petition\'s text in another language instead (with --title, --target, --ask, --why): documents, share texts and emails in LANG use it, and what is not translated stays in the campaign\'s own language' -r -f -a "en\t''
es\t''"
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l national -d 'The campaign is national rather than about one place'
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l global -d 'The campaign is global'
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand edit" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand edit" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand edit" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand edit" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand edit" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand offline" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand offline" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand offline" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand offline" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand offline" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand offline" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand offline" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand offline" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand offline" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand online" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand online" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand online" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand online" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand online" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand online" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand online" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand online" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand online" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand share" -l channel -d 'Which channel to print' -r -f -a "facebook\t''
x\t''
whatsapp\t''
sms\t''
email\t''
all\t''"
complete -c campaign -n "__fish_campaign_using_subcommand share" -l lang -d 'Language of the texts and invitations [default: the campaign\'s language]' -r -f -a "en\t''
es\t''"
complete -c campaign -n "__fish_campaign_using_subcommand share" -l invite -d 'Invite a friend by email (repeat for each friend)' -r
complete -c campaign -n "__fish_campaign_using_subcommand share" -l invite-file -d 'Invite the friends in a CSV file with `name` and `email` columns' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand share" -l message -d 'Your own words for the invitations, shown right after the greeting' -r
complete -c campaign -n "__fish_campaign_using_subcommand share" -l card -d 'Write the share card to this PNG file instead of printing texts: the 1200x630 picture a post of the link shows (the campaign picture cropped to fill, with the title). Works for drafts too, to see it before launching' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand share" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand share" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand share" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand share" -l send -d 'Send the invitations now through your SMTP server instead of leaving them in the outbox'
complete -c campaign -n "__fish_campaign_using_subcommand share" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand share" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand share" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand share" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand share" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand share" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand admins" -l add -d 'Invite a co-organizer by email (repeat for more); writes an invitation email' -r
complete -c campaign -n "__fish_campaign_using_subcommand admins" -l remove -d 'Remove an admin by email (repeat for more); the owner cannot be removed' -r
complete -c campaign -n "__fish_campaign_using_subcommand admins" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand admins" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand admins" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand admins" -l send -d 'Send the invitations now through your SMTP server instead of leaving them in the outbox'
complete -c campaign -n "__fish_campaign_using_subcommand admins" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand admins" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand admins" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand admins" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand admins" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand admins" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -s o -l out -d 'Where to write the PDF [default: <slug>-paper-form-<first sheet id>.pdf in the documents folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -l sheets -d 'How many sheets (pages) to print; each gets a new sheet id' -r
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -l lines -d 'Signature lines per sheet [default: as many as are comfortable to write in, 6-10]' -r
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -l paper -d 'Paper size, printed landscape [default: letter for a campaign (or account) in the US, Canada, Mexico and the other countries that use it, A4 elsewhere]' -r -f -a "letter\t'US Letter, 8.5 x 11 in (the US, Canada, Mexico and much of Latin America)'
a4\t'A4, 210 x 297 mm (most of the world)'"
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -l lang -d 'Language of the form\'s own words: en, es, or both on one page [default: the campaign\'s language]' -r -f -a "en\t'English'
es\t'Spanish'
both\t'English and Spanish on the same page'"
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -l short-why -d 'A shorter why to print on the sheets instead of the petition\'s own, when that one does not fit (the petition is not changed)' -r
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -l with-instructions -d 'Start the PDF with a page for organizers: how to hand the sheets out, what the boxes mean, and how to type the sheets in (the sheets never name the tool)'
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -l allow-unprintable -d 'Print the form even when its text has characters no font here can draw, each printed as the replacement mark U+FFFD. Without it, nothing is printed and the characters are listed'
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c campaign -n "__fish_campaign_using_subcommand paper-form" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -l from -d 'Import this CSV file instead of typing (`-` reads standard input)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -l rejects -d 'Write the rows that could not be imported to FILE as they were (every column), with their row number and the reason: fix them in a spreadsheet and import FILE again' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -l encoding -d 'The file\'s character encoding, when detection gets it wrong (e.g. windows-1252, latin1, utf-8, utf-16le) [default: detected]' -r
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -l source -d 'Where these signatures were collected [default: online for imports, paper when typing]' -r -f -a "paper\t''
online\t''"
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -l sheet -d 'Sheet id to start typing from (as printed in the sheet\'s footer, e.g. OAK-0007)' -r
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand enter-signatures" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -f -a "edit" -d 'Change a signer\'s fields (asks for each on a terminal when no field is given)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -f -a "remove" -d 'Remove a signer (asks first; --yes without a terminal)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -f -a "history" -d 'List every correction and removal, oldest first'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and not __fish_seen_subcommand_from edit remove history help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -l name -d 'New name' -r
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -l email -d 'New email ("" clears it)' -r
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -l postcode -d 'New ZIP/postcode, kept as typed ("" clears it)' -r
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -l phone -d 'New phone ("" clears it)' -r
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -l opt-in -d 'Whether they joined the mailing list' -r
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -l private -d 'Whether they are counted without their name shown' -r
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from edit" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from remove" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from remove" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from remove" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from remove" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from remove" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from history" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from history" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from history" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from history" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from history" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from history" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from history" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from history" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from help" -f -a "edit" -d 'Change a signer\'s fields (asks for each on a terminal when no field is given)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a signer (asks first; --yes without a terminal)'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from help" -f -a "history" -d 'List every correction and removal, oldest first'
complete -c campaign -n "__fish_campaign_using_subcommand signer; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c campaign -n "__fish_campaign_using_subcommand export" -l format -d 'File format [default: csv; jsonl with --json]' -r -f -a "csv\t'Comma-separated, with a header; cells a spreadsheet would run as formulas are defused'
jsonl\t'One JSON object per line'"
complete -c campaign -n "__fish_campaign_using_subcommand export" -s o -l out -d 'Write to FILE instead of standard output. An existing FILE is replaced only once the export is complete (never the database or the account file)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand export" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand export" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand export" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand export" -l opted-in -d 'Only signers who asked to join the mailing list'
complete -c campaign -n "__fish_campaign_using_subcommand export" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand export" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand export" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand export" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c campaign -n "__fish_campaign_using_subcommand export" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l status -d 'With --all: only campaigns with this status (without it, every one but drafts)' -r -f -a "draft\t''
live\t''
offline\t''"
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l out -d 'Where to write: a file for one campaign, a folder for several or with --split-by [default: the documents folder under the data folder]. In a folder, a name already taken gets a number (...-2026-12-01-2.pdf): an earlier delivery is never replaced. A FILE an earlier delivery wrote is refused (its record keeps that file\'s hash); any other existing FILE is replaced once the new PDF is complete' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l show -d 'How much of each signer the target sees. Signers who asked not to be named are counted, never named' -r -f -a "names\t'Name and postcode of each signer'
initials\t'Initials and postcode of each signer'
postcodes\t'A table of how many signed per postcode, no names'
count\t'The cover page with the count only'"
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l include -d 'Also show these contact details (comma-separated: email,phone); the cover says so. Never shown otherwise. On a terminal, first says how many signers\' details the target will see and asks; without one, needs --yes' -r -f -a "email\t''
phone\t''"
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l split-by -d 'Write one PDF per postcode (e.g. one per council district), each named after its postcode: letters, digits and `-` as typed, a space as `_`, anything else as %XX (`a/b` is `a%2Fb`); never two postcodes in one file' -r -f -a "postcode\t''"
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l lang -d 'Language of the document\'s own words [default: the campaign\'s language]' -r -f -a "en\t''
es\t''"
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l paper -d 'Paper size [default: letter for a campaign (or account) in the US, Canada, Mexico and the other countries that use it, A4 elsewhere]' -r -f -a "letter\t'US Letter, 8.5 x 11 in (the US, Canada, Mexico and much of Latin America)'
a4\t'A4, 210 x 297 mm (most of the world)'"
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l email-to -d 'Email the PDF to the target at this address. The message waits in the outbox (`campaign outbox`) unless --send is given' -r
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l all -d 'Deliver every launched campaign (drafts only with --status draft)'
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l include-sender-email -d 'Print your email under your name on the cover letter (it is not printed otherwise)'
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l allow-unprintable -d 'Deliver even when a name has characters no font here can draw: the name is printed as "[name not printable]" and the cover counts those rows. Without it, nothing is written and the rows and characters are listed'
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l send -d 'With --email-to: send now through SMTP (`campaign account --smtp-url`); a failed send stays in the outbox with the reason'
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c campaign -n "__fish_campaign_using_subcommand deliver" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand outbox" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand outbox" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand outbox" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand outbox" -l send -d 'Send every waiting email through your SMTP server (`campaign account --smtp-url` or $CAMPAIGN_SMTP_URL); sent ones move to the sent folder, failed ones stay with the reason'
complete -c campaign -n "__fish_campaign_using_subcommand outbox" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand outbox" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand outbox" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand outbox" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand outbox" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand outbox" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand encrypt" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand encrypt" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand encrypt" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand encrypt" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand encrypt" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand encrypt" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand encrypt" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand encrypt" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand encrypt" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand passphrase" -l new-passphrase-fd -d 'Read the new passphrase from this open file descriptor (e.g. `--new-passphrase-fd 4 4< file`) instead of asking twice on the terminal' -r
complete -c campaign -n "__fish_campaign_using_subcommand passphrase" -l new-passphrase-file -d 'Read the new passphrase from this file (the first line; chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand passphrase" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand passphrase" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand passphrase" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand passphrase" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand passphrase" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand passphrase" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand passphrase" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand passphrase" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand passphrase" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand completions" -l dir -d 'Write into this folder (under the shell\'s usual file name) instead of stdout' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand completions" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand completions" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand completions" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand completions" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand completions" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand completions" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand completions" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand completions" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand completions" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand man" -l dir -d 'Folder for the pages' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand man" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand man" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand man" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand man" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand man" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand man" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand man" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand man" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand man" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -f -a "add" -d 'Add a person: prints the URL they connect with (its password is shown this once)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -f -a "list" -d 'List the people of the team, their role and campaigns (never a password)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -f -a "remove" -d 'Remove a person: their login stops working at once (asks first; --yes without a terminal)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and not __fish_seen_subcommand_from add list remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from add" -l role -d 'organizer: everything on their campaigns; volunteer: adds signatures, reads none' -r -f -a "organizer\t'everything on their campaigns'
volunteer\t'adds signatures to their campaigns, reads none'"
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from add" -l campaign -d 'A campaign (slug or id) they work on; repeat for more. Without it an organizer works on every campaign; a volunteer needs at least one' -r
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from add" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from add" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from add" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from add" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from add" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from add" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from list" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from list" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from list" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from remove" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from remove" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from remove" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from remove" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from remove" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a person: prints the URL they connect with (its password is shown this once)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the people of the team, their role and campaigns (never a password)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a person: their login stops working at once (asks first; --yes without a terminal)'
complete -c campaign -n "__fish_campaign_using_subcommand team; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c campaign -n "__fish_campaign_using_subcommand merge" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand merge" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand merge" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand merge" -l dry-run -d 'Show what would come in, and change nothing'
complete -c campaign -n "__fish_campaign_using_subcommand merge" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand merge" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand merge" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand merge" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand merge" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand merge" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand purge" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand purge" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand purge" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand purge" -l due -d 'Purge every campaign whose retention period (--retain) has run out since its last delivery'
complete -c campaign -n "__fish_campaign_using_subcommand purge" -l dry-run -d 'Show what would be removed and kept; change nothing'
complete -c campaign -n "__fish_campaign_using_subcommand purge" -l discard-unsent -d 'Also delete this campaign\'s emails still waiting in the outbox (never sent)'
complete -c campaign -n "__fish_campaign_using_subcommand purge" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand purge" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand purge" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand purge" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand purge" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand purge" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand forget" -l email -d 'The person\'s email' -r
complete -c campaign -n "__fish_campaign_using_subcommand forget" -l name -d 'The person\'s name, as they signed (with --postcode)' -r
complete -c campaign -n "__fish_campaign_using_subcommand forget" -l postcode -d 'Their postcode (with --name)' -r
complete -c campaign -n "__fish_campaign_using_subcommand forget" -l db -d 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand forget" -l passphrase-fd -d 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)' -r
complete -c campaign -n "__fish_campaign_using_subcommand forget" -l passphrase-file -d 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)' -r -F
complete -c campaign -n "__fish_campaign_using_subcommand forget" -l dry-run -d 'Show where they appear; change nothing'
complete -c campaign -n "__fish_campaign_using_subcommand forget" -l json -d 'Print machine-readable JSON on stdout instead of tables and text'
complete -c campaign -n "__fish_campaign_using_subcommand forget" -l no-input -d 'Never prompt: a missing value is an error naming the flag to pass'
complete -c campaign -n "__fish_campaign_using_subcommand forget" -s y -l yes -d 'Answer yes to confirmations (editing a petition people already signed, ...)'
complete -c campaign -n "__fish_campaign_using_subcommand forget" -s q -l quiet -d 'Print less on stderr: no status lines or progress bars (errors still show)'
complete -c campaign -n "__fish_campaign_using_subcommand forget" -s h -l help -d 'Print help'
complete -c campaign -n "__fish_campaign_using_subcommand forget" -s V -l version -d 'Print version'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "init" -d 'Create the campaigns database; with --encrypt, an encrypted one protected by a passphrase'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "account" -d 'Set or show who you are: your name and email sign campaigns and emails'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "new" -d 'Start a new petition (saved as a draft)'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "review" -d 'Read a petition as a signer would, add its picture and launch it'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "list" -d 'List your campaigns with their status and signature counts'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "show" -d 'Show one campaign: its text, counts, edit history and deliveries'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "edit" -d 'Change a campaign\'s text (same flags as `new`; opens $EDITOR without flags)'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "offline" -d 'Take a petition offline: it can no longer be shared or signed online (paper sheets already collected can still be entered and delivered)'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "online" -d 'Bring an offline petition back online'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "share" -d 'Print ready-to-post share texts and links, or invite friends by email'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "admins" -d 'List, invite or remove the co-organizers of a campaign'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "paper-form" -d 'Print paper signature forms (PDF) with numbered, traceable sheets'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "enter-signatures" -d 'Type in paper signatures, or import a CSV of signatures'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "signer" -d 'Correct or remove a saved signer by sheet and line (OAK-0007:5), kept in the history'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "export" -d 'Write a campaign\'s signers to CSV or JSON lines'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "deliver" -d 'Write the petition as a PDF for its target, and optionally email it'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "outbox" -d 'List the emails waiting to be sent, or send them'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "encrypt" -d 'Encrypt an existing database with a passphrase (every row kept; the plain file is replaced only after the encrypted copy is checked)'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "passphrase" -d 'Change the passphrase of the encrypted database (the data is not re-encrypted)'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "completions" -d 'Print a shell completion script'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "man" -d 'Write man pages (for packagers)'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "team" -d 'Give people of the team their own login to a shared PostgreSQL database'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "merge" -d 'Bring in another campaign database (a laptop\'s file, or a postgres:// URL): everything it has that this one lacks, once; conflicts are reported, not overwritten'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "purge" -d 'Delete a delivered campaign\'s signers, keeping its counts and delivery records'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "forget" -d 'Remove one person from every campaign (they withdrew; the counts drop) and keep a keyed hash so no later import brings them back'
complete -c campaign -n "__fish_campaign_using_subcommand help; and not __fish_seen_subcommand_from init account new review list show edit offline online share admins paper-form enter-signatures signer export deliver outbox encrypt passphrase completions man team merge purge forget help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c campaign -n "__fish_campaign_using_subcommand help; and __fish_seen_subcommand_from signer" -f -a "edit" -d 'Change a signer\'s fields (asks for each on a terminal when no field is given)'
complete -c campaign -n "__fish_campaign_using_subcommand help; and __fish_seen_subcommand_from signer" -f -a "remove" -d 'Remove a signer (asks first; --yes without a terminal)'
complete -c campaign -n "__fish_campaign_using_subcommand help; and __fish_seen_subcommand_from signer" -f -a "history" -d 'List every correction and removal, oldest first'
complete -c campaign -n "__fish_campaign_using_subcommand help; and __fish_seen_subcommand_from team" -f -a "add" -d 'Add a person: prints the URL they connect with (its password is shown this once)'
complete -c campaign -n "__fish_campaign_using_subcommand help; and __fish_seen_subcommand_from team" -f -a "list" -d 'List the people of the team, their role and campaigns (never a password)'
complete -c campaign -n "__fish_campaign_using_subcommand help; and __fish_seen_subcommand_from team" -f -a "remove" -d 'Remove a person: their login stops working at once (asks first; --yes without a terminal)'
