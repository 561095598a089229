"""Intake and small action forms. Every form carries a CSRF token (Flask-WTF)."""
import re
from functools import cache

from babel.support import Translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.form import Form
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..i18n import current_language

REQUEST_TYPE_CHOICES = [SelectChoice(value, label) for value, label in [
    ("access", _l("Access — a copy of the data you hold about me")),
    ("export", _l("Export — my data in a portable, machine-readable format")),
    ("correction", _l("Correction — fix information about me that is wrong")),
    ("deletion", _l("Deletion — erase the data you hold about me")),
]]
REGION_CHOICES = [SelectChoice(value, label) for value, label in [
    ("eu", _l("European Union, EEA or United Kingdom")),
    ("california", _l("California, United States")),
    ("us_other", _l("Another US state")),
    ("japan", _l("Japan")),
    ("other", _l("Somewhere else")),
]]
MAX_CORRECTIONS = 3

# Markup where plain text is expected: an opening or closing tag, a comment or a directive.
_MARKUP = re.compile(r"<\s*[a-zA-Z!/?]")
# Control characters other than tab and newlines, and the replacement character that Werkzeug
# substitutes for bytes that were not UTF-8.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def readable(form, field):
    """No control characters, nor what Werkzeug put for bytes that were not UTF-8."""
    if _BAD_CHARS.search(field.data or ""):
        raise ValidationError(_l("This contains characters we cannot read. Please type it again "
                              "as plain text (UTF-8)."))


def plain_text(form, field):
    readable(form, field)
    if _MARKUP.search(field.data or ""):
        raise ValidationError(_l("Please write plain text, without HTML tags or scripts."))


def strip(value):
    return value.strip() if isinstance(value, str) else value


@cache
def wtforms_messages(language):
    """WTForms' own messages ("Not a valid choice.") in one language, read from disk once."""
    return Translations.load(messages_path(), [language], domain="wtforms")


class TranslatedMeta:
    """WTForms' own messages in the person's language, for page forms and sub-forms alike.

    Flask-WTF's default loads WTForms' catalog from disk on every request (an intake submission
    took 5.5 ms in-process with that, 4.9 ms without); this reads it once per language. A plain
    `Form` (a sub-form) has no translations at all unless its Meta has this too.
    """

    def get_translations(self, form):
        return wtforms_messages(current_language())


class CorrectionForm(Form):
    """One proposed change. A sub-form: the CSRF token lives on the parent form."""

    class Meta(TranslatedMeta, Form.Meta):
        pass

    field = StringField(_l("Which information"), filters=[strip], validators=[
        Optional(), Length(max=100, message=_l(
            "“Which information” can be at most 100 characters.")), plain_text])
    problem = StringField(_l("What is wrong"), filters=[strip], validators=[
        Optional(), Length(max=500, message=_l(
            "“What is wrong” can be at most 500 characters.")), plain_text])
    proposed = StringField(_l("The correct value"), filters=[strip], validators=[
        Optional(), Length(max=500, message=_l(
            "“The correct value” can be at most 500 characters.")), plain_text])


class PortalForm(FlaskForm):
    """A person's form."""

    class Meta(TranslatedMeta, FlaskForm.Meta):
        pass


class IntakeForm(PortalForm):
    request_type = RadioField(_l("What would you like us to do?"), choices=REQUEST_TYPE_CHOICES,
                               validators=[DataRequired(_l("Choose the kind of request."))])
    email = StringField(_l("Your email address"), filters=[strip], validators=[
        DataRequired(_l("Enter the email address you use with us.")),
        Length(max=254, message=_l("An email address is at most 254 characters.")),
        Email(_l("Enter a valid email address, like name@example.com."),
              check_deliverability=False),
    ])
    name = StringField(_l("Your name"), filters=[strip], validators=[
        DataRequired(_l("Enter your name.")), Length(max=200), plain_text])
    region = SelectField(_l("Where do you live?"), choices=REGION_CHOICES,
                         validators=[DataRequired(_l("Choose where you live."))])
    details = TextAreaField(_l("Anything that helps us find your data (optional)"), filters=[strip],
                            validators=[Optional(), Length(max=5000), plain_text])
    corrections = FieldList(FormField(CorrectionForm), min_entries=MAX_CORRECTIONS,
                            max_entries=MAX_CORRECTIONS)
    confirm = BooleanField(_l("I understand that deletion is permanent and cannot be undone"))
    timezone = HiddenField()

    def validate_confirm(self, field):
        if self.request_type.data == "deletion" and not field.data:
            raise ValidationError(_l("To ask for deletion, tick the box to confirm you understand "
                                  "it is permanent."))

    def validate_corrections(self, field):
        if self.request_type.data != "correction":
            return
        for entry in field.entries:
            if bool(entry.form.field.data) != bool(entry.form.proposed.data):
                raise ValidationError(_l("Each correction needs both the information and its "
                                      "correct value."))
        if not self.proposed_corrections():
            raise ValidationError(_l("Tell us at least one piece of information to correct and "
                                  "its correct value."))

    def proposed_corrections(self):
        return [
            {"field": e.form.field.data, "problem": e.form.problem.data or "",
             "proposed": e.form.proposed.data}
            for e in self.corrections.entries if e.form.field.data and e.form.proposed.data
        ]


class ConfirmForm(PortalForm):
    """The button on a verify link: only this POST confirms, so mail scanners cannot."""


class ResendForm(PortalForm):
    """Ask for a fresh verify link."""


class DownloadForm(PortalForm):
    """The download button: a POST, so prefetching the link downloads nothing."""


class CancelForm(PortalForm):
    """Cancel one's own open request."""
