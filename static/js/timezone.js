// Fills the hidden timezone field so due dates are shown as the person's own calendar date.
// Without JavaScript the field stays empty and dates are shown in UTC.
(function () {
  var field = document.getElementById("timezone");
  if (!field || field.value) { return; }
  try {
    field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) { /* old browser: UTC it is */ }
}());
