"""What the law gives the person and where they may complain, as the documents they receive
say it: complaint authorities, rights by law (GDPR, APPI, CCPA), the transfer to Japan.

Lazy strings throughout: they are written in the language active where they are printed
(workflows.reports for the PDFs; app.staff.actions for the rejection email).
"""

from flask_babel import lazy_gettext as _l

# Where to complain, by the regime that applies to the person. Addresses are the authorities'
# own complaint pages (checked 2026-03).
# Names are lazy strings: they are written in the language active where they are printed
# (the PPC's address too: its Japanese site for a Japanese reader).
AUTHORITIES = {
    "appi": (
        _l("Personal Information Protection Commission (PPC), Japan"),
        _l("https://www.ppc.go.jp/en/"),
    ),
    "gdpr": (
        _l("the data protection supervisory authority of the EU/EEA country where you live, "
           "work or where you think the infringement happened"),
        "https://edpb.europa.eu/about-edpb/about-edpb/members_en",
    ),
    "uk": (
        _l("Information Commissioner's Office (ICO), United Kingdom"),
        "https://ico.org.uk/make-a-complaint/",
    ),
    "ccpa": (_l("California Privacy Protection Agency (CPPA)"), "https://cppa.ca.gov/"),
    "us_state": (_l("the Attorney General of your state"), ""),
}
# The complaint route named first for each regime; "company" (no statutory regime) falls back
# to Japan's, as the company is governed by Japanese law (policy section 10).
PRIMARY_AUTHORITY = {"gdpr": "gdpr", "uk": "uk", "ccpa": "ccpa", "us_state": "us_state",
                     "appi": "appi"}

# (right, what it gives the person, GDPR article and paragraph)
RIGHTS = (
    (_l("Access"), _l("a copy of your personal data and the facts in this statement"),
     "15", ""),
    (_l("Rectification"), _l("correction of inaccurate or incomplete data"), "16", ""),
    (_l("Erasure"), _l("deletion of your data, except what the law requires us to keep"),
     "17", ""),
    (_l("Restriction"), _l("that we only store your data while a dispute is resolved"),
     "18", ""),
    (
        _l("Portability"),
        _l("your data in a structured, machine-readable format (the JSON and CSV "
           "files in this archive)"),
        "20", "",
    ),
    (
        _l("Objection"),
        _l("to processing based on our legitimate interests, and to direct marketing at "
           "any time"),
        "21", "",
    ),
    (
        _l("Withdraw consent"),
        _l("at any time, for processing based on consent, without affecting what was done "
           "before"),
        "7", "3",
    ),
)

# Japan (APPI, as amended in 2020) and California (CCPA as amended by the CPRA): the rights as
# those laws name them, with the provision, for people whose request falls under them.
RIGHTS_BY_LAW = {
    "appi": (
        (_l("Disclosure"), _l("of the retained personal data we hold about you, in electronic "
                              "form if you ask, and of the records of its provision to third "
                              "parties"), _l("APPI Art. 33")),
        (_l("Correction, addition or deletion"), _l("where the content of your data is not "
                                                    "true"), _l("APPI Art. 34")),
        (_l("Cessation of use or erasure"), _l("where your data is used beyond its purpose, "
                                               "was obtained improperly, is no longer needed, "
                                               "or its handling may harm your rights or "
                                               "legitimate interests"),
         _l("APPI Art. 35(1), (5)")),
        (_l("Cessation of provision to third parties"), _l("where your data is provided to a "
                                                           "third party without the consent "
                                                           "the law requires"),
         _l("APPI Art. 35(3)")),
        (_l("Notice of the purpose of use"), _l("why we use your retained personal data"),
         _l("APPI Art. 32(2)")),
    ),
    "ccpa": (
        (_l("Right to know"), _l("the categories and specific pieces of personal information we "
                                 "collected, its sources, purposes and the third parties we "
                                 "disclose it to"), _l("Cal. Civ. Code 1798.110, 1798.115")),
        (_l("Right to delete"), _l("the personal information we collected from you, except what "
                                   "the law lets us keep"), _l("Cal. Civ. Code 1798.105")),
        (_l("Right to correct"), _l("inaccurate personal information"),
         _l("Cal. Civ. Code 1798.106")),
        (_l("Right to opt out of sale or sharing"), _l("of your personal information, sharing "
                                                       "meaning for cross-context behavioural "
                                                       "advertising"),
         _l("Cal. Civ. Code 1798.120")),
        (_l("Right to limit use of sensitive personal information"),
         _l("to what is needed to provide the service"), _l("Cal. Civ. Code 1798.121")),
        (_l("Non-discrimination"), _l("no different price or service for exercising these "
                                      "rights"), _l("Cal. Civ. Code 1798.125")),
    ),
}


# Lazy: the statement holds it as data, and it is printed in the reader's language.
TRANSFER_TO_JAPAN = _l(
    "Our servers and databases are in Japan, and our privacy policy is governed by Japanese "
    "law (policy section 10). If you live outside Japan, your data is transferred to and "
    "processed in Japan. The European Commission has found that Japan ensures an adequate "
    "level of protection (Decision (EU) 2019/419); in Japan your data is protected by the "
    "Act on the Protection of Personal Information (APPI)."
)
