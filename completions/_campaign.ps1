
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'campaign' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'campaign'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'campaign' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the campaigns database; with --encrypt, an encrypted one protected by a passphrase')
            [CompletionResult]::new('account', 'account', [CompletionResultType]::ParameterValue, 'Set or show who you are: your name and email sign campaigns and emails')
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'Start a new petition (saved as a draft)')
            [CompletionResult]::new('review', 'review', [CompletionResultType]::ParameterValue, 'Read a petition as a signer would, add its picture and launch it')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List your campaigns with their status and signature counts')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one campaign: its text, counts, edit history and deliveries')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a campaign''s text (same flags as `new`; opens $EDITOR without flags)')
            [CompletionResult]::new('offline', 'offline', [CompletionResultType]::ParameterValue, 'Take a petition offline: it can no longer be shared or signed online (paper sheets already collected can still be entered and delivered)')
            [CompletionResult]::new('online', 'online', [CompletionResultType]::ParameterValue, 'Bring an offline petition back online')
            [CompletionResult]::new('share', 'share', [CompletionResultType]::ParameterValue, 'Print ready-to-post share texts and links, or invite friends by email')
            [CompletionResult]::new('admins', 'admins', [CompletionResultType]::ParameterValue, 'List, invite or remove the co-organizers of a campaign')
            [CompletionResult]::new('paper-form', 'paper-form', [CompletionResultType]::ParameterValue, 'Print paper signature forms (PDF) with numbered, traceable sheets')
            [CompletionResult]::new('enter-signatures', 'enter-signatures', [CompletionResultType]::ParameterValue, 'Type in paper signatures, or import a CSV of signatures')
            [CompletionResult]::new('signer', 'signer', [CompletionResultType]::ParameterValue, 'Correct or remove a saved signer by sheet and line (OAK-0007:5), kept in the history')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write a campaign''s signers to CSV or JSON lines')
            [CompletionResult]::new('deliver', 'deliver', [CompletionResultType]::ParameterValue, 'Write the petition as a PDF for its target, and optionally email it')
            [CompletionResult]::new('outbox', 'outbox', [CompletionResultType]::ParameterValue, 'List the emails waiting to be sent, or send them')
            [CompletionResult]::new('encrypt', 'encrypt', [CompletionResultType]::ParameterValue, 'Encrypt an existing database with a passphrase (every row kept; the plain file is replaced only after the encrypted copy is checked)')
            [CompletionResult]::new('passphrase', 'passphrase', [CompletionResultType]::ParameterValue, 'Change the passphrase of the encrypted database (the data is not re-encrypted)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write man pages (for packagers)')
            [CompletionResult]::new('team', 'team', [CompletionResultType]::ParameterValue, 'Give people of the team their own login to a shared PostgreSQL database')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Bring in another campaign database (a laptop''s file, or a postgres:// URL): everything it has that this one lacks, once; conflicts are reported, not overwritten')
            [CompletionResult]::new('purge', 'purge', [CompletionResultType]::ParameterValue, 'Delete a delivered campaign''s signers, keeping its counts and delivery records')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Remove one person from every campaign (they withdrew; the counts drop) and keep a keyed hash so no later import brings them back')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'campaign;init' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--encrypt', '--encrypt', [CompletionResultType]::ParameterName, 'Encrypt the database with a passphrase (asked twice on a terminal; or --passphrase-fd / CAMPAIGN_PASSPHRASE_FILE). A key file is written beside it: without that file and the passphrase nobody can read the data, not even you')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;account' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Your name, as signers and targets will see it')
            [CompletionResult]::new('--email', '--email', [CompletionResultType]::ParameterName, 'Your email: campaigns you create are yours, and emails come from it')
            [CompletionResult]::new('--organization', '--organization', [CompletionResultType]::ParameterName, 'Your organization, printed on forms and deliveries')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Default language for new campaigns')
            [CompletionResult]::new('--country', '--country', [CompletionResultType]::ParameterName, 'Your country code (e.g. US), the default region for phone numbers')
            [CompletionResult]::new('--smtp-url', '--smtp-url', [CompletionResultType]::ParameterName, 'SMTP server for sending email, e.g. smtps://user:pass@host:465 or smtp://user:pass@host:587 (STARTTLS; a password is never sent in clear text to another machine unless the URL ends in ?tls=none). Add ?timeout=SECONDS to wait longer than 10 s')
            [CompletionResult]::new('--reply-to', '--reply-to', [CompletionResultType]::ParameterName, 'Address replies should go to [default: your email]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;new' {
            [CompletionResult]::new('--title', '--title', [CompletionResultType]::ParameterName, 'Petition title: short and specific, e.g. "Make Oakland a sanctuary city"')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Who can give you what you want: a person or body, e.g. "Mayor Barbara Lee"')
            [CompletionResult]::new('--ask', '--ask', [CompletionResultType]::ParameterName, 'What exactly the target should do')
            [CompletionResult]::new('--why', '--why', [CompletionResultType]::ParameterName, 'Why it matters: the reason people will sign')
            [CompletionResult]::new('--location', '--location', [CompletionResultType]::ParameterName, 'Where the campaign is, e.g. "Oakland, CA"')
            [CompletionResult]::new('--postcode', '--postcode', [CompletionResultType]::ParameterName, 'ZIP or postcode of the place')
            [CompletionResult]::new('--country', '--country', [CompletionResultType]::ParameterName, 'Country code (e.g. US, MX), used for phone numbers and ZIP codes [default: US]')
            [CompletionResult]::new('--goal', '--goal', [CompletionResultType]::ParameterName, 'How many signatures you aim for')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Web address where people can sign online')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Language of the petition''s documents, emails and share texts')
            [CompletionResult]::new('--retain', '--retain', [CompletionResultType]::ParameterName, 'Delete the signers'' personal data this long after the last delivery, e.g. 180d, 26w, 6m or 1y (counts are kept; see `campaign purge --due`); `none` to clear')
            [CompletionResult]::new('--template', '--template', [CompletionResultType]::ParameterName, 'Prefill target, ask and why for a kind of #HereToStay campaign')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--national', '--national', [CompletionResultType]::ParameterName, 'The campaign is national rather than about one place')
            [CompletionResult]::new('--global', '--global', [CompletionResultType]::ParameterName, 'The campaign is global')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;review' {
            [CompletionResult]::new('--picture', '--picture', [CompletionResultType]::ParameterName, 'Add or replace the picture: a PNG or JPEG, at least 600x315 px, at most 10 MB')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--launch', '--launch', [CompletionResultType]::ParameterName, 'Launch the petition: a draft becomes live and can collect and share')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;list' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only campaigns with this status')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;show' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;edit' {
            [CompletionResult]::new('--title', '--title', [CompletionResultType]::ParameterName, 'Petition title: short and specific, e.g. "Make Oakland a sanctuary city"')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Who can give you what you want: a person or body, e.g. "Mayor Barbara Lee"')
            [CompletionResult]::new('--ask', '--ask', [CompletionResultType]::ParameterName, 'What exactly the target should do')
            [CompletionResult]::new('--why', '--why', [CompletionResultType]::ParameterName, 'Why it matters: the reason people will sign')
            [CompletionResult]::new('--location', '--location', [CompletionResultType]::ParameterName, 'Where the campaign is, e.g. "Oakland, CA"')
            [CompletionResult]::new('--postcode', '--postcode', [CompletionResultType]::ParameterName, 'ZIP or postcode of the place')
            [CompletionResult]::new('--country', '--country', [CompletionResultType]::ParameterName, 'Country code (e.g. US, MX), used for phone numbers and ZIP codes [default: US]')
            [CompletionResult]::new('--goal', '--goal', [CompletionResultType]::ParameterName, 'How many signatures you aim for')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Web address where people can sign online')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Language of the petition''s documents, emails and share texts')
            [CompletionResult]::new('--retain', '--retain', [CompletionResultType]::ParameterName, 'Delete the signers'' personal data this long after the last delivery, e.g. 180d, 26w, 6m or 1y (counts are kept; see `campaign purge --due`); `none` to clear')
            [CompletionResult]::new('--in', '--in', [CompletionResultType]::ParameterName, 'Set the petition''s text in another language instead (with --title, --target, --ask, --why): documents, share texts and emails in LANG use it, and what is not translated stays in the campaign''s own language')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--national', '--national', [CompletionResultType]::ParameterName, 'The campaign is national rather than about one place')
            [CompletionResult]::new('--global', '--global', [CompletionResultType]::ParameterName, 'The campaign is global')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;offline' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;online' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;share' {
            [CompletionResult]::new('--channel', '--channel', [CompletionResultType]::ParameterName, 'Which channel to print')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Language of the texts and invitations [default: the campaign''s language]')
            [CompletionResult]::new('--invite', '--invite', [CompletionResultType]::ParameterName, 'Invite a friend by email (repeat for each friend)')
            [CompletionResult]::new('--invite-file', '--invite-file', [CompletionResultType]::ParameterName, 'Invite the friends in a CSV file with `name` and `email` columns')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Your own words for the invitations, shown right after the greeting')
            [CompletionResult]::new('--card', '--card', [CompletionResultType]::ParameterName, 'Write the share card to this PNG file instead of printing texts: the 1200x630 picture a post of the link shows (the campaign picture cropped to fill, with the title). Works for drafts too, to see it before launching')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'Send the invitations now through your SMTP server instead of leaving them in the outbox')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;admins' {
            [CompletionResult]::new('--add', '--add', [CompletionResultType]::ParameterName, 'Invite a co-organizer by email (repeat for more); writes an invitation email')
            [CompletionResult]::new('--remove', '--remove', [CompletionResultType]::ParameterName, 'Remove an admin by email (repeat for more); the owner cannot be removed')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'Send the invitations now through your SMTP server instead of leaving them in the outbox')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;paper-form' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write the PDF [default: <slug>-paper-form-<first sheet id>.pdf in the documents folder]')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Where to write the PDF [default: <slug>-paper-form-<first sheet id>.pdf in the documents folder]')
            [CompletionResult]::new('--sheets', '--sheets', [CompletionResultType]::ParameterName, 'How many sheets (pages) to print; each gets a new sheet id')
            [CompletionResult]::new('--lines', '--lines', [CompletionResultType]::ParameterName, 'Signature lines per sheet [default: as many as are comfortable to write in, 6-10]')
            [CompletionResult]::new('--paper', '--paper', [CompletionResultType]::ParameterName, 'Paper size, printed landscape [default: letter for a campaign (or account) in the US, Canada, Mexico and the other countries that use it, A4 elsewhere]')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Language of the form''s own words: en, es, or both on one page [default: the campaign''s language]')
            [CompletionResult]::new('--short-why', '--short-why', [CompletionResultType]::ParameterName, 'A shorter why to print on the sheets instead of the petition''s own, when that one does not fit (the petition is not changed)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--with-instructions', '--with-instructions', [CompletionResultType]::ParameterName, 'Start the PDF with a page for organizers: how to hand the sheets out, what the boxes mean, and how to type the sheets in (the sheets never name the tool)')
            [CompletionResult]::new('--allow-unprintable', '--allow-unprintable', [CompletionResultType]::ParameterName, 'Print the form even when its text has characters no font here can draw, each printed as the replacement mark U+FFFD. Without it, nothing is printed and the characters are listed')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;enter-signatures' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Import this CSV file instead of typing (`-` reads standard input)')
            [CompletionResult]::new('--rejects', '--rejects', [CompletionResultType]::ParameterName, 'Write the rows that could not be imported to FILE as they were (every column), with their row number and the reason: fix them in a spreadsheet and import FILE again')
            [CompletionResult]::new('--encoding', '--encoding', [CompletionResultType]::ParameterName, 'The file''s character encoding, when detection gets it wrong (e.g. windows-1252, latin1, utf-8, utf-16le) [default: detected]')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Where these signatures were collected [default: online for imports, paper when typing]')
            [CompletionResult]::new('--sheet', '--sheet', [CompletionResultType]::ParameterName, 'Sheet id to start typing from (as printed in the sheet''s footer, e.g. OAK-0007)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;signer' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a signer''s fields (asks for each on a terminal when no field is given)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a signer (asks first; --yes without a terminal)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List every correction and removal, oldest first')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'campaign;signer;edit' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'New name')
            [CompletionResult]::new('--email', '--email', [CompletionResultType]::ParameterName, 'New email ("" clears it)')
            [CompletionResult]::new('--postcode', '--postcode', [CompletionResultType]::ParameterName, 'New ZIP/postcode, kept as typed ("" clears it)')
            [CompletionResult]::new('--phone', '--phone', [CompletionResultType]::ParameterName, 'New phone ("" clears it)')
            [CompletionResult]::new('--opt-in', '--opt-in', [CompletionResultType]::ParameterName, 'Whether they joined the mailing list')
            [CompletionResult]::new('--private', '--private', [CompletionResultType]::ParameterName, 'Whether they are counted without their name shown')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;signer;remove' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;signer;history' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;signer;help' {
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a signer''s fields (asks for each on a terminal when no field is given)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a signer (asks first; --yes without a terminal)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List every correction and removal, oldest first')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'campaign;signer;help;edit' {
            break
        }
        'campaign;signer;help;remove' {
            break
        }
        'campaign;signer;help;history' {
            break
        }
        'campaign;signer;help;help' {
            break
        }
        'campaign;export' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'File format [default: csv; jsonl with --json]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to FILE instead of standard output. An existing FILE is replaced only once the export is complete (never the database or the account file)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write to FILE instead of standard output. An existing FILE is replaced only once the export is complete (never the database or the account file)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--opted-in', '--opted-in', [CompletionResultType]::ParameterName, 'Only signers who asked to join the mailing list')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;deliver' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'With --all: only campaigns with this status (without it, every one but drafts)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Where to write: a file for one campaign, a folder for several or with --split-by [default: the documents folder under the data folder]. In a folder, a name already taken gets a number (...-2026-12-01-2.pdf): an earlier delivery is never replaced. A FILE an earlier delivery wrote is refused (its record keeps that file''s hash); any other existing FILE is replaced once the new PDF is complete')
            [CompletionResult]::new('--show', '--show', [CompletionResultType]::ParameterName, 'How much of each signer the target sees. Signers who asked not to be named are counted, never named')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Also show these contact details (comma-separated: email,phone); the cover says so. Never shown otherwise. On a terminal, first says how many signers'' details the target will see and asks; without one, needs --yes')
            [CompletionResult]::new('--split-by', '--split-by', [CompletionResultType]::ParameterName, 'Write one PDF per postcode (e.g. one per council district), each named after its postcode: letters, digits and `-` as typed, a space as `_`, anything else as %XX (`a/b` is `a%2Fb`); never two postcodes in one file')
            [CompletionResult]::new('--lang', '--lang', [CompletionResultType]::ParameterName, 'Language of the document''s own words [default: the campaign''s language]')
            [CompletionResult]::new('--paper', '--paper', [CompletionResultType]::ParameterName, 'Paper size [default: letter for a campaign (or account) in the US, Canada, Mexico and the other countries that use it, A4 elsewhere]')
            [CompletionResult]::new('--email-to', '--email-to', [CompletionResultType]::ParameterName, 'Email the PDF to the target at this address. The message waits in the outbox (`campaign outbox`) unless --send is given')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Deliver every launched campaign (drafts only with --status draft)')
            [CompletionResult]::new('--include-sender-email', '--include-sender-email', [CompletionResultType]::ParameterName, 'Print your email under your name on the cover letter (it is not printed otherwise)')
            [CompletionResult]::new('--allow-unprintable', '--allow-unprintable', [CompletionResultType]::ParameterName, 'Deliver even when a name has characters no font here can draw: the name is printed as "[name not printable]" and the cover counts those rows. Without it, nothing is written and the rows and characters are listed')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'With --email-to: send now through SMTP (`campaign account --smtp-url`); a failed send stays in the outbox with the reason')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;outbox' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'Send every waiting email through your SMTP server (`campaign account --smtp-url` or $CAMPAIGN_SMTP_URL); sent ones move to the sent folder, failed ones stay with the reason')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;encrypt' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;passphrase' {
            [CompletionResult]::new('--new-passphrase-fd', '--new-passphrase-fd', [CompletionResultType]::ParameterName, 'Read the new passphrase from this open file descriptor (e.g. `--new-passphrase-fd 4 4< file`) instead of asking twice on the terminal')
            [CompletionResult]::new('--new-passphrase-file', '--new-passphrase-file', [CompletionResultType]::ParameterName, 'Read the new passphrase from this file (the first line; chmod 600)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;completions' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Write into this folder (under the shell''s usual file name) instead of stdout')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;man' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Folder for the pages')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;team' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a person: prints the URL they connect with (its password is shown this once)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the people of the team, their role and campaigns (never a password)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a person: their login stops working at once (asks first; --yes without a terminal)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'campaign;team;add' {
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'organizer: everything on their campaigns; volunteer: adds signatures, reads none')
            [CompletionResult]::new('--campaign', '--campaign', [CompletionResultType]::ParameterName, 'A campaign (slug or id) they work on; repeat for more. Without it an organizer works on every campaign; a volunteer needs at least one')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;team;list' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;team;remove' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;team;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a person: prints the URL they connect with (its password is shown this once)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the people of the team, their role and campaigns (never a password)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a person: their login stops working at once (asks first; --yes without a terminal)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'campaign;team;help;add' {
            break
        }
        'campaign;team;help;list' {
            break
        }
        'campaign;team;help;remove' {
            break
        }
        'campaign;team;help;help' {
            break
        }
        'campaign;merge' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would come in, and change nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;purge' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--due', '--due', [CompletionResultType]::ParameterName, 'Purge every campaign whose retention period (--retain) has run out since its last delivery')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be removed and kept; change nothing')
            [CompletionResult]::new('--discard-unsent', '--discard-unsent', [CompletionResultType]::ParameterName, 'Also delete this campaign''s emails still waiting in the outbox (never sent)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;forget' {
            [CompletionResult]::new('--email', '--email', [CompletionResultType]::ParameterName, 'The person''s email')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The person''s name, as they signed (with --postcode)')
            [CompletionResult]::new('--postcode', '--postcode', [CompletionResultType]::ParameterName, 'Their postcode (with --name)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Database: a file, or a PostgreSQL URL shared by a team (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]')
            [CompletionResult]::new('--passphrase-fd', '--passphrase-fd', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this open file descriptor (e.g. `--passphrase-fd 3 3< file`; the first line)')
            [CompletionResult]::new('--passphrase-file', '--passphrase-file', [CompletionResultType]::ParameterName, 'Read the passphrase of an encrypted database from this file (the first line; it must be private: chmod 600)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show where they appear; change nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of tables and text')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt: a missing value is an error naming the flag to pass')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (editing a petition people already signed, ...)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less on stderr: no status lines or progress bars (errors still show)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'campaign;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the campaigns database; with --encrypt, an encrypted one protected by a passphrase')
            [CompletionResult]::new('account', 'account', [CompletionResultType]::ParameterValue, 'Set or show who you are: your name and email sign campaigns and emails')
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'Start a new petition (saved as a draft)')
            [CompletionResult]::new('review', 'review', [CompletionResultType]::ParameterValue, 'Read a petition as a signer would, add its picture and launch it')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List your campaigns with their status and signature counts')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one campaign: its text, counts, edit history and deliveries')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a campaign''s text (same flags as `new`; opens $EDITOR without flags)')
            [CompletionResult]::new('offline', 'offline', [CompletionResultType]::ParameterValue, 'Take a petition offline: it can no longer be shared or signed online (paper sheets already collected can still be entered and delivered)')
            [CompletionResult]::new('online', 'online', [CompletionResultType]::ParameterValue, 'Bring an offline petition back online')
            [CompletionResult]::new('share', 'share', [CompletionResultType]::ParameterValue, 'Print ready-to-post share texts and links, or invite friends by email')
            [CompletionResult]::new('admins', 'admins', [CompletionResultType]::ParameterValue, 'List, invite or remove the co-organizers of a campaign')
            [CompletionResult]::new('paper-form', 'paper-form', [CompletionResultType]::ParameterValue, 'Print paper signature forms (PDF) with numbered, traceable sheets')
            [CompletionResult]::new('enter-signatures', 'enter-signatures', [CompletionResultType]::ParameterValue, 'Type in paper signatures, or import a CSV of signatures')
            [CompletionResult]::new('signer', 'signer', [CompletionResultType]::ParameterValue, 'Correct or remove a saved signer by sheet and line (OAK-0007:5), kept in the history')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write a campaign''s signers to CSV or JSON lines')
            [CompletionResult]::new('deliver', 'deliver', [CompletionResultType]::ParameterValue, 'Write the petition as a PDF for its target, and optionally email it')
            [CompletionResult]::new('outbox', 'outbox', [CompletionResultType]::ParameterValue, 'List the emails waiting to be sent, or send them')
            [CompletionResult]::new('encrypt', 'encrypt', [CompletionResultType]::ParameterValue, 'Encrypt an existing database with a passphrase (every row kept; the plain file is replaced only after the encrypted copy is checked)')
            [CompletionResult]::new('passphrase', 'passphrase', [CompletionResultType]::ParameterValue, 'Change the passphrase of the encrypted database (the data is not re-encrypted)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write man pages (for packagers)')
            [CompletionResult]::new('team', 'team', [CompletionResultType]::ParameterValue, 'Give people of the team their own login to a shared PostgreSQL database')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Bring in another campaign database (a laptop''s file, or a postgres:// URL): everything it has that this one lacks, once; conflicts are reported, not overwritten')
            [CompletionResult]::new('purge', 'purge', [CompletionResultType]::ParameterValue, 'Delete a delivered campaign''s signers, keeping its counts and delivery records')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Remove one person from every campaign (they withdrew; the counts drop) and keep a keyed hash so no later import brings them back')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'campaign;help;init' {
            break
        }
        'campaign;help;account' {
            break
        }
        'campaign;help;new' {
            break
        }
        'campaign;help;review' {
            break
        }
        'campaign;help;list' {
            break
        }
        'campaign;help;show' {
            break
        }
        'campaign;help;edit' {
            break
        }
        'campaign;help;offline' {
            break
        }
        'campaign;help;online' {
            break
        }
        'campaign;help;share' {
            break
        }
        'campaign;help;admins' {
            break
        }
        'campaign;help;paper-form' {
            break
        }
        'campaign;help;enter-signatures' {
            break
        }
        'campaign;help;signer' {
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a signer''s fields (asks for each on a terminal when no field is given)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a signer (asks first; --yes without a terminal)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List every correction and removal, oldest first')
            break
        }
        'campaign;help;signer;edit' {
            break
        }
        'campaign;help;signer;remove' {
            break
        }
        'campaign;help;signer;history' {
            break
        }
        'campaign;help;export' {
            break
        }
        'campaign;help;deliver' {
            break
        }
        'campaign;help;outbox' {
            break
        }
        'campaign;help;encrypt' {
            break
        }
        'campaign;help;passphrase' {
            break
        }
        'campaign;help;completions' {
            break
        }
        'campaign;help;man' {
            break
        }
        'campaign;help;team' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a person: prints the URL they connect with (its password is shown this once)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the people of the team, their role and campaigns (never a password)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a person: their login stops working at once (asks first; --yes without a terminal)')
            break
        }
        'campaign;help;team;add' {
            break
        }
        'campaign;help;team;list' {
            break
        }
        'campaign;help;team;remove' {
            break
        }
        'campaign;help;merge' {
            break
        }
        'campaign;help;purge' {
            break
        }
        'campaign;help;forget' {
            break
        }
        'campaign;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
