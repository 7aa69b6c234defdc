from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .models import Administration, SingleSignOn, Team
from .roles import Role

User = get_user_model()


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Brugernavn"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Adgangskode"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=_("Engangskode"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": _("Koden er 6 cifre fra din godkendelses-app.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self):
        return self.cleaned_data["token"].strip()


class ReplaceTokenForm(TokenForm):
    """Swapping authenticators: a code from the app in use, then the new."""

    current_token = forms.RegexField(
        label=_("Kode fra din nuværende app"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": _("Koden er 6 cifre fra din godkendelses-app.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )
    field_order = ["current_token", "token"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["token"].label = _("Kode fra den nye app")
        self.fields["token"].widget.attrs.pop("autofocus", None)
        self.fields["current_token"].widget.attrs["autofocus"] = True

    def clean_current_token(self):
        return self.cleaned_data["current_token"].strip()


class MemberForm(forms.Form):
    username = forms.RegexField(
        label=_("Brugernavn"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={
            "invalid": _("Brug kun bogstaver, tal og tegnene @ . + - _ i brugernavnet.")
        },
    )
    full_name = forms.CharField(label=_("Fulde navn"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    administration = forms.ModelChoiceField(
        label=_("Forvaltning"), queryset=Administration.objects.none()
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False
    )
    role = forms.ChoiceField(label=_("Rolle"), choices=Role.choices)

    def __init__(self, *args, organisation, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["administration"].queryset = organisation.administrations.all()
        self.fields["team"].queryset = Team.objects.filter(
            administration__organisation=organisation
        ).select_related("administration")
        if editing:
            for name in ("username", "full_name", "email"):
                del self.fields[name]

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(
            username__iexact=username, memberships__organisation=self.organisation
        ).exists():
            raise forms.ValidationError(
                _("Brugeren er allerede medlem af organisationen.")
            )
        if User.objects.filter(username__iexact=username).exists():
            # Usernames are installation-wide; an existing account belongs to
            # a person (and maybe another organisation) this administrator
            # does not control, so it is never taken over by name.
            raise forms.ValidationError(
                _(
                    "Brugernavnet er allerede i brug i Kanal. Vælg et andet "
                    "brugernavn. Skal en person, der allerede har en konto, også "
                    "arbejde i jeres organisation, så kontakt driften af Kanal."
                )
            )
        return username

    def clean(self):
        data = super().clean()
        team, administration = data.get("team"), data.get("administration")
        if team and administration and team.administration_id != administration.pk:
            self.add_error("team", _("Teamet hører til en anden forvaltning."))
        return data


class OrganisationSettingsForm(forms.Form):
    name = forms.CharField(label=_("Navn"), max_length=200)
    require_two_factor = forms.BooleanField(
        label=_("Kræv to-faktor-login for administratorer og redaktører"),
        required=False,
    )
    forbid_self_approval = forms.BooleanField(
        label=_("Forbyd at godkende egne opslag"), required=False
    )


class AdministrationForm(forms.Form):
    code = forms.RegexField(
        label=_("Forkortelse"),
        max_length=12,
        regex=r"^[\wÆØÅæøå-]+$",
        error_messages={"invalid": _("Brug kun bogstaver, tal og bindestreg.")},
    )
    name = forms.CharField(label=_("Navn"), max_length=200)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    def clean_code(self):
        code = self.cleaned_data["code"].upper()
        if self.organisation.administrations.filter(code__iexact=code).exists():
            raise forms.ValidationError(_("Forkortelsen er allerede brugt."))
        return code


class TeamForm(forms.Form):
    administration = forms.ModelChoiceField(
        label=_("Forvaltning"), queryset=Administration.objects.none()
    )
    name = forms.CharField(label=_("Teamets navn"), max_length=200)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["administration"].queryset = organisation.administrations.all()

    def clean(self):
        data = super().clean()
        if (
            data.get("administration")
            and data.get("name")
            and Team.objects.filter(
                administration=data["administration"], name__iexact=data["name"]
            ).exists()
        ):
            self.add_error(
                "name", _("Forvaltningen har allerede et team med det navn.")
            )
        return data


def _role_names() -> str:
    return ", ".join(Role.values)


class SingleSignOnForm(forms.Form):
    """The organisation's identity provider. Groups map to roles one per
    line: ``group = role ADMINISTRATION``."""

    enabled = forms.BooleanField(label=_("Fælles login er slået til"), required=False)
    issuer = forms.URLField(
        label=_("Udsteder (issuer)"),
        max_length=300,
        assume_scheme="https",
        help_text=_("Fx https://login.kommune.dk/realms/ansatte"),
    )
    client_id = forms.CharField(label=_("Klient-id"), max_length=300)
    client_secret = forms.CharField(
        label=_("Klient-hemmelighed"),
        max_length=500,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Gemmes krypteret. Lad feltet stå tomt for at beholde den gemte."),
    )
    groups_claim = forms.RegexField(
        label=_("Gruppe-claim i ID-token"),
        max_length=100,
        regex=r"^[\w.:/-]+$",
        initial="groups",
    )
    group_roles = forms.CharField(
        label=_("Grupper → roller"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Én linje pr. gruppe: gruppe = rolle FORVALTNING, fx "
            "«kanal-redaktion = editor KFF». Den første linje, der passer, "
            "gælder. Tom: roller og forvaltninger styres i Kanal."
        ),
    )
    local_passwords = forms.ChoiceField(
        label=_("Lokale adgangskoder"),
        choices=SingleSignOn.LocalPasswords.choices,
        widget=forms.RadioSelect,
    )
    require_mfa_claim = forms.BooleanField(
        label=_(
            "Kræv at login-tjenesten bekræfter to-faktor (amr) for roller med "
            "krav om to-faktor"
        ),
        required=False,
    )

    def __init__(self, *args, organisation, has_secret=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.has_secret = has_secret

    def clean_issuer(self):
        # Tokens, keys and the client secret travel to this address: never
        # in the clear, except to a provider on this machine (tests, demos).
        issuer = self.cleaned_data["issuer"].rstrip("/")
        if not issuer.startswith("https://") and not issuer.startswith(
            ("http://127.0.0.1:", "http://localhost:")
        ):
            raise forms.ValidationError(
                _("Udstederen skal have en https-adresse, fx https://login.kommune.dk.")
            )
        return issuer

    def clean_client_secret(self):
        secret = self.cleaned_data["client_secret"]
        if not secret and not self.has_secret:
            raise forms.ValidationError(
                _("Skriv klient-hemmeligheden fra login-tjenesten.")
            )
        return secret

    def clean_group_roles(self):
        mapping = []
        codes = set(self.organisation.administrations.values_list("code", flat=True))
        for number, line in enumerate(self.cleaned_data["group_roles"].splitlines(), 1):
            if not line.strip():
                continue
            group, sep, rest = line.partition("=")
            parts = rest.split()
            if not sep or not group.strip() or len(parts) != 2:
                raise forms.ValidationError(
                    _("Linje %(n)d skal skrives: gruppe = rolle FORVALTNING.")
                    % {"n": number}
                )
            role, code = parts
            if role not in Role.values:
                raise forms.ValidationError(
                    _(
                        "Linje %(n)d: rollen «%(role)s» findes ikke. Brug en af: "
                        "%(roles)s."
                    )
                    % {"n": number, "role": role, "roles": _role_names()}
                )
            if code not in codes:
                raise forms.ValidationError(
                    _("Linje %(n)d: forvaltningen «%(code)s» findes ikke.")
                    % {"n": number, "code": code}
                )
            mapping.append(
                {"group": group.strip(), "role": role, "administration": code}
            )
        return mapping


def group_roles_text(mapping) -> str:
    return "\n".join(
        f"{m['group']} = {m['role']} {m['administration']}" for m in mapping
    )


class IdentityLinkForm(forms.Form):
    subject = forms.CharField(
        label=_("Subject (sub) hos login-tjenesten"),
        max_length=255,
        required=False,
        help_text=_(
            "Personens faste id hos kommunens login-tjeneste (ikke e-mail). "
            "Tom: forbindelsen fjernes."
        ),
    )


class NewOrganisationForm(forms.Form):
    name = forms.CharField(label=_("Navn"), max_length=200)
    slug = forms.SlugField(label=_("Kort navn"), max_length=60)
    administrations = forms.CharField(
        label=_("Forvaltninger"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Én pr. linje: KODE=Navn, fx KFF=Kultur- og Fritidsforvaltningen"),
    )
    central_desk = forms.CharField(
        label=_("Den centrale redaktions forkortelse"), max_length=12
    )
    admin_username = forms.RegexField(
        label=_("Første administrators brugernavn"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
    )
    admin_email = forms.EmailField(label=_("Administratorens e-mail"))
    admin_name = forms.CharField(
        label=_("Administratorens fulde navn"), max_length=150
    )

    def clean_administrations(self):
        try:
            return [
                parse_administration(line)
                for line in self.cleaned_data["administrations"].splitlines()
                if line.strip()
            ]
        except ValueError as e:
            raise forms.ValidationError(str(e)) from e


def parse_administration(text: str) -> tuple[str, str]:
    """``"KFF=Kultur- og Fritidsforvaltningen"`` → ``("KFF", "Kultur- …")``."""
    code, sep, title = text.partition("=")
    if not sep or not code.strip() or not title.strip():
        raise ValueError(
            _(
                "Skriv hver forvaltning som KODE=Navn, fx KFF=Kultur- og "
                "Fritidsforvaltningen (fik «%(text)s»)."
            )
            % {"text": text.strip()}
        )
    return code.strip().upper(), title.strip()
