#!/usr/bin/env bash
# A whole campaign as a newcomer would type it. Run it in a scratch home:
#   CAMPAIGN_HOME=$(mktemp -d) bash examples/oakland-campaign.sh
# It uses `campaign` from PATH, or the binary named by $CAMPAIGN.
set -euo pipefail
campaign() { "${CAMPAIGN:-campaign}" "$@"; }

# 1. Who you are: your name and email sign campaigns and emails.
campaign account --name "Ana Reyes" --email ana@example.org \
  --organization "Oakland Sanctuary Coalition"

# 2. Start the petition from the sanctuary-city template, in Spanish.
slug=$(campaign new --template city --lang es \
  --title "Hacer de Oakland una ciudad santuario" \
  --target "Alcaldesa Barbara Lee y el Concejo Municipal de Oakland" \
  --location "Oakland, CA" --postcode 94612 \
  --goal 500 --url "https://example.org/oakland-santuario")
echo "created $slug"

# 3. Look it over as a signer would, then launch it.
campaign review "$slug"
campaign review "$slug" --launch

# 4. Fix the title: the history keeps the old one.
campaign edit "$slug" --title "Oakland, ciudad santuario" --yes

# 5. Share it: ready-to-post texts and links for every channel.
campaign share "$slug" --channel whatsapp

# 6. Bring in a co-organizer; the invitation waits in the outbox until sent.
campaign admins "$slug" --add luis@example.org
campaign outbox

# 7. Print two paper forms in English and Spanish for the Sunday rally.
campaign paper-form "$slug" --sheets 2 --lang both

# 8. Bring in signatures collected online elsewhere (a CSV export).
campaign enter-signatures "$slug" --from "$(dirname "$0")/rally-signatures.csv" --json

# 9. The mailing-list opt-ins, for the coalition's list.
campaign export "$slug" --opted-in --format csv

# 10. Deliver: a PDF for the mayor with names and postcodes (signers who asked not to be
# named are counted, never named), and an email with it waiting in the outbox.
campaign deliver "$slug" --email-to mayor@example.gov

# 11. My campaigns.
campaign list
campaign show "$slug" --json > /dev/null
