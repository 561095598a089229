"""End to end on the demo (real worker, real Redis): the documents a person receives agree
with each other and with what was found for them."""
import io
import re

import pyzipper
from helpers import csrf_token, links_in, run_worker, submit
from pdf_support import pdf_unicode_text
from test_workflows import confirm, erase, resolve_manual, the_request

from workflows.datamap import load_datamap
from workflows.demo.people import CAROL


def download_archive(client, message):
    path = next(link for link in links_in(message) if "/download/" in link)
    path = path.removeprefix("http://portal.test")
    client.get(path)
    shown = client.post(path, data={"csrf_token": csrf_token(client, path)})
    passphrase = re.search(r'class="passphrase"><code>([A-Z0-9-]+)</code>',
                           shown.get_data(as_text=True)).group(1)
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    archive = pyzipper.AESZipFile(io.BytesIO(response.data))
    archive.setpassword(passphrase.encode())
    return archive


def test_carols_statement_holds_only_what_her_index_shows(demo_app, smtp_server):
    """Carol has billing rows only: report.pdf describes billing as held and lists the other
    stores as searched with nothing found, as index.html does."""
    _, sink = smtp_server
    client = demo_app.test_client()
    submit(client, email=CAROL.email, name="Carol Chen")
    confirm(client, demo_app)
    run_worker()
    resolve_manual(demo_app, the_request(demo_app).reference)
    run_worker()
    ready = next(m for m in sink.messages if "ready to download" in m["Subject"])
    archive = download_archive(client, ready)
    text = pdf_unicode_text(archive.read("report.pdf"))
    index = archive.read("index.html").decode()

    held = text[text.index("What we hold, store by store"):text.index("Checked by our staff")]
    empty = text[text.index("Where we found nothing about you"):]
    # Stores as the data map titles them.
    assert "Billing" in held and "Hashed password" not in held
    assert "Your account" in empty and "Conversations with your agent" in empty
    with demo_app.app_context():
        stores = load_datamap(demo_app.config["STORES_CONFIG"]).stores
    # Every store but billing (hers) and the payment processor (checked by staff instead).
    assert index.count("No data about you was found in this store.") == len(stores) - 2
    for store in re.findall(r'<h2 id="store-[^"]+">([^<]+)</h2>', index):
        section = index[index.index(f">{store}</h2>"):]
        section = section[:section.index("</section>")]
        if "No data about you was found" in section:
            assert store not in held, store
    assert "sent to you separately" not in index
    assert "processor holds no extra data for this person" in index


def test_carols_erasure_email_and_certificate_agree(demo_app, smtp_server):
    """Carol (billing rows only): the email tells deleted from de-identified, names the
    manual store, and the certificate lists no table of 0 records."""
    _, sink = smtp_server
    client = demo_app.test_client()
    erase(demo_app, client, CAROL.email, name="Carol Chen")
    erased = next(m for m in sink.messages if "erased" in m["Subject"])
    text = " ".join(erased.get_body(preferencelist=("plain",)).get_content().split())
    assert "We erased" not in text and " 0 record" not in text
    assert "not searched again automatically: Payment processor (card payments)." in text
    path = next(link for link in links_in(erased) if "/download/" in link)
    path = path.removeprefix("http://portal.test")
    pdf = client.post(path, data={"csrf_token": csrf_token(client, path)}).data
    certificate = pdf_unicode_text(pdf)
    assert not re.search(r"(deleted|anonymized) 0 ", certificate)
    assert not re.search(r" 0 Tax law", certificate)
