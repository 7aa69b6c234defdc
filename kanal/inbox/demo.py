"""The demo's inbox: the desk's settings and standard answers (idempotent)."""

from __future__ import annotations

from .models import InboxSettings, StandardAnswer

STANDARD_ANSWERS = [
    ("Borgerservice: åbningstider",
     "Hej {fornavn}. Du finder Borgerservices åbningstider og kan bestille tid på "
     "kk.dk/borgerservice. Venlig hilsen {kanalnavn}"),
    ("Pas",
     "Hej {fornavn}. Et nyt pas bestiller du ved at booke tid i Borgerservice på "
     "kk.dk/pas. Husk dit gamle pas og et godkendt foto."),
    ("Sundhedskort",
     "Hej {fornavn}. Du kan bestille et nyt sundhedskort på borger.dk. Indtil det "
     "kommer, kan du bruge det digitale kort i appen Sundhedskortet."),
    ("Henvist til forvaltningen",
     "Hej {fornavn}. Tak for dit spørgsmål. Vi har sendt det videre til "
     "{forvaltningsnavn}, som vender tilbage her."),
    ("Personoplysninger",
     "Hej {fornavn}. Vi har skjult din kommentar, fordi den indeholdt "
     "personoplysninger. Skriv til os via kk.dk/kontakt, så hjælper vi dig "
     "sikkert dér."),
]


def load_inbox_demo(organisation) -> None:
    InboxSettings.objects.get_or_create(
        organisation=organisation,
        defaults={"hide_personal_data": True, "require_footer": True,
                  "house_rules_url": "https://www.kk.dk/om-kommunen/"
                                     "kontakt-kommunen/sociale-medier"},
    )
    for title, text in STANDARD_ANSWERS:
        StandardAnswer.objects.get_or_create(
            organisation=organisation, title=title, defaults={"text": text}
        )
