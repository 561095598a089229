"""The request page's forms: every label names the box it sits next to. The reject, extend and
cancel forms each have a `reason` box; all three had id="reason", so only the first was labelled."""
from html.parser import HTMLParser

from test_staff_access import AGENT, logged_in, make_request


class Forms(HTMLParser):
    """Each form's action with its labels (for -> text) and fields (id -> name), plus the ids
    of everything but hidden inputs."""

    def __init__(self):
        super().__init__()
        self.forms, self.ids, self.label = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # Hidden inputs are left out: every form's csrf_token has id="csrf_token" (WTForms'
        # default), which no label points at.
        if "id" in attrs and attrs.get("type") != "hidden":
            self.ids.append(attrs["id"])
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "labels": {}, "fields": {},
                               "described": {}})
        elif self.forms and tag == "label":
            self.label = attrs.get("for")
            self.forms[-1]["labels"][self.label] = ""
        elif self.forms and tag in ("input", "textarea", "select") and "id" in attrs:
            self.forms[-1]["fields"][attrs["id"]] = attrs.get("name")
            self.forms[-1]["described"][attrs["id"]] = attrs.get("aria-describedby")

    def handle_endtag(self, tag):
        if tag == "label":
            self.label = None

    def handle_data(self, data):
        if self.label is not None:
            self.forms[-1]["labels"][self.label] += data


def parsed_request_page(app):
    client = logged_in(app, AGENT)
    request_id = make_request(app, state="verified", regime="gdpr")
    page = client.get(f"/staff/requests/{request_id}")
    assert page.status_code == 200
    parser = Forms()
    parser.feed(page.get_data(as_text=True))
    return parser


def test_each_reason_box_has_its_own_id_and_label_and_keeps_the_name_reason(app):
    parser = parsed_request_page(app)
    by_action = {form["action"].rsplit("/", 1)[-1]: form for form in parser.forms}
    reason_ids = []
    for action in ("reject", "extend", "cancel"):
        form = by_action[action]
        [(box_id, name)] = [(i, n) for i, n in form["fields"].items() if n == "reason"]
        assert form["labels"].get(box_id, "").strip() == "Reason", action
        assert form["described"][box_id] == f"{box_id}-hint", action
        reason_ids.append(box_id)
    assert len(set(reason_ids)) == 3


def test_every_label_on_the_page_points_at_a_field_of_its_own_form(app):
    parser = parsed_request_page(app)
    duplicates = {i for i in parser.ids if parser.ids.count(i) > 1}
    assert not duplicates
    for form in parser.forms:
        for target in form["labels"]:
            assert target in form["fields"], (form["action"], target)
