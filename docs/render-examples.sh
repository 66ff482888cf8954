#!/usr/bin/env bash
# Renders the example documents in docs/ (paper forms, delivery letters, share cards)
# from a scratch campaign. Needs poppler-utils (pdftoppm) and python3.
#   CAMPAIGN=target/debug/campaign bash docs/render-examples.sh
set -euo pipefail
CAMPAIGN=${CAMPAIGN:-target/release/campaign}
CAMPAIGN=$(realpath "$CAMPAIGN")
DOCS=$(realpath "$(dirname "$0")")
CAMPAIGN_HOME=$(mktemp -d)
export CAMPAIGN_HOME HOME=$CAMPAIGN_HOME
trap 'rm -rf "$CAMPAIGN_HOME"' EXIT
cd "$CAMPAIGN_HOME"
c() { "$CAMPAIGN" --quiet "$@"; }

c account --name "Ana Reyes" --email ana@example.org --organization "Oakland Sanctuary Coalition" >/dev/null
slug=$(c new --title "Make Oakland a sanctuary city for every family" \
  --target "Mayor Barbara Lee and the Oakland City Council" \
  --ask "Pass a sanctuary ordinance that keeps city police and city data out of federal immigration enforcement." \
  --why "Our neighbors should live without fear of deportation. When families are afraid to call 911, report wage theft or send their children to school, the whole city is less safe. A sanctuary policy lets everyone ask for help." \
  --location "Oakland, CA" --postcode 94612 --country US --goal 500 \
  --url "https://petitions.example.org/p/make-oakland-a-sanctuary-city-for-every-family")
# A picture: a warm gradient with a few shapes, standing in for a rally photo.
python3 - <<'PY'
import zlib, struct
w, h = 1600, 1000
rows = bytearray()
for y in range(h):
    rows.append(0)
    for x in range(w):
        r = 200 - y * 90 // h + (40 if (x - 1100) ** 2 + (y - 380) ** 2 < 160 ** 2 else 0)
        g = 110 + x * 60 // w
        b = 60 + y * 120 // h
        rows += bytes((min(r, 255), g, b))
chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) \
    + chunk(b'IDAT', zlib.compress(bytes(rows))) + chunk(b'IEND', b'')
open('rally.png', 'wb').write(png)
PY
c review "$slug" --picture rally.png >/dev/null
c review "$slug" --launch >/dev/null
# The petition's own text in Spanish, for the es and both forms.
c edit "$slug" --in es --title "Que Oakland sea una ciudad santuario para todas las familias" \
  --target "Alcaldesa Barbara Lee y el Concejo Municipal de Oakland" \
  --ask "Aprueben una ordenanza santuario que mantenga a la policía y los datos de la ciudad fuera de la aplicación federal de las leyes de inmigración." \
  --why "Nuestros vecinos deben vivir sin miedo a la deportación. Cuando las familias temen llamar al 911, denunciar el robo de salarios o mandar a sus hijos a la escuela, toda la ciudad es menos segura." >/dev/null
{ echo name,postcode,private; printf '%s\n' \
  "Rosa Martínez,94601,no" "Nguyễn Thị Minh Khai,94612,no" "محمد الأحمد,94601,no" \
  "李娜,94612,no" "አበበ ቢቂላ,94606,no" "Luis Ortega,94612,yes" "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ,94606,no" \
  "အောင်ဆန်းစုကြည်,94601,no" "Արամ Խաչատրյան,94612,no" "ნინო ბერიძე,94606,no" \
  "สมชาย ใจดี,94612,no" "முருகன் செல்வம்,94601,no"; } \
  | c enter-signatures "$slug" --from - --source paper >/dev/null

png() { # png PDF PAGE NAME
  pdftoppm -f "$2" -l "$2" -r 60 -png -singlefile "$1" "$DOCS/$3"
}
for lang in en es both; do
  for paper in letter a4; do
    c paper-form "$slug" --lang "$lang" --paper "$paper" --with-instructions --out "form-$lang-$paper.pdf" >/dev/null
    png "form-$lang-$paper.pdf" 2 "paper-form-$lang-$paper"
  done
done
png form-both-letter.pdf 1 paper-form-instructions-both
c deliver "$slug" --out letter.pdf >/dev/null
png letter.pdf 1 delivery-cover-letter
png letter.pdf 2 delivery-list-letter
c deliver "$slug" --split-by postcode --out split >/dev/null
png split/"$slug"-94612-delivery-*.pdf 1 delivery-cover-split-94612
c deliver "$slug" --lang es --out carta.pdf >/dev/null
png carta.pdf 1 delivery-cover-letter-es

c share "$slug" --card "$DOCS/share-card-latin.png" >/dev/null
for t in "arabic|اجعلوا أوكلاند مدينة ملاذ لكل العائلات" "chinese|让奥克兰成为所有家庭的庇护城市"; do
  name=${t%%|*} title=${t#*|}
  s=$(c new --title "$title" --target "Mayor Barbara Lee" --ask "Declare Oakland a sanctuary city." \
    --why "Families belong here." --location "Oakland, CA")
  c share "$s" --card "$DOCS/share-card-$name.png" >/dev/null
done
ls -la "$DOCS"
