"""Staff forms. Every one carries a CSRF token; text is checked like the portal's."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..portal.forms import plain_text, strip


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
    note = TextAreaField("Internal note", filters=[strip], validators=[
        DataRequired("Write the note first."), Length(max=4000), plain_text])


class ResolveForm(FlaskForm):
    step_id = HiddenField(validators=[DataRequired()])
    note = TextAreaField("What was done", filters=[strip], validators=[
        DataRequired("Say what was done: it goes on the audit trail."), Length(max=2000),
        plain_text])
    upload = FileField("Export received from the store (optional)")
