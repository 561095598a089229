"""Staff forms. Every one carries a CSRF token; text is checked like the portal's."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ..models import API_SCOPES, STAFF_ROLES
from ..portal.forms import plain_text, readable, strip
from .passwords import MIN_PASSWORD


class LoginForm(FlaskForm):
    email = EmailField("Email", filters=[strip], validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class TotpForm(FlaskForm):
    code = StringField("6-digit code from your authenticator app", filters=[strip],
                       validators=[DataRequired(), Length(max=10)])


class ActionForm(FlaskForm):
    """A bare button (approve, cancel, retry, preview, logout): the token is the whole form."""


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", filters=[strip], validators=[
        DataRequired("Give a reason: it goes on the audit trail."), Length(max=2000), plain_text])


class ExtendForm(ReasonForm):
    new_due = DateField("New due date", validators=[DataRequired("Choose the new due date.")])


class AssignForm(FlaskForm):
    # "me", "" (nobody) or a staff id (admins may assign to anyone).
    assignee = StringField("Assign to", filters=[strip], validators=[Optional(), Length(max=12)])


class NoteForm(FlaskForm):
    # Not plain_text: notes quote things like "<old address>", and they are only ever shown in
    # the console, whose templates escape them, and in the audit CSV, never in a mail or a PDF.
    # Reasons and resolve notes keep plain_text: the person reads them.
    note = TextAreaField("Internal note", filters=[strip], validators=[
        DataRequired("Write the note first."), Length(max=4000), readable])


class MatchForm(FlaskForm):
    """A field the person named in their own words, and the correctable field it means."""
    field = HiddenField(filters=[strip], validators=[DataRequired(), Length(max=200)])
    column = StringField("Means", filters=[strip], validators=[
        DataRequired("Choose the field it means."), Length(max=200)])


class ResolveForm(FlaskForm):
    step_id = HiddenField(validators=[DataRequired()])
    note = TextAreaField("What was done", filters=[strip], validators=[
        # For a deletion the person reads it too: it is printed on their certificate.
        DataRequired("Say what was done: it goes on the audit trail and, for a deletion, on "
                     "the person's certificate."), Length(max=2000),
        plain_text])
    upload = FileField("Export received from the store (optional)")


# --- admin pages: staff accounts and API keys ----------------------------------------------

class NewStaffForm(FlaskForm):
    email = EmailField(
        _l("Email"), filters=[strip], render_kw={"autocomplete": "off"},
        validators=[DataRequired(_l("Enter their email address.")), Length(max=254),
                    Email(_l("Enter a valid email address, like name@example.com."),
                          check_deliverability=False)])
    role = SelectField(_l("Role"), choices=STAFF_ROLES, default="agent")
    # Empty: the portal makes one up and shows it once. The same rule as `staff create`.
    # new-password: a browser must not fill in the admin's own saved password.
    password = PasswordField(
        _l("Initial password (optional)"), render_kw={"autocomplete": "new-password"},
        validators=[Optional(), Length(min=MIN_PASSWORD, max=1024, message=_l(
            "A password needs at least %(min)d characters.", min=MIN_PASSWORD))])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=STAFF_ROLES)


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name (who will use it)"), filters=[strip], validators=[
        DataRequired(_l("Name the key after its caller.")), Length(max=100), plain_text])
    # Drawn as checkboxes by the template; checked again by app.api.auth.parse_scopes, the
    # rule the CLI uses.
    scopes = SelectMultipleField(_l("Scopes"), choices=API_SCOPES, validators=[
        DataRequired(_l("Choose at least one scope."))])


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Enter your current password.")), Length(max=1024)])
    new = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password.")),
        Length(min=MIN_PASSWORD, max=1024, message=_l(
            "A password needs at least %(min)d characters.", min=MIN_PASSWORD))])
    confirm = PasswordField(_l("New password again"), validators=[
        EqualTo("new", message=_l("The two new passwords are not the same."))])


class TotpSetupForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app"), validators=[
        DataRequired(_l("Enter the six-digit code.")), Length(max=12)])


class PasswordConfirmForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Enter your current password.")), Length(max=1024)])
