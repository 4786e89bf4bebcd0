// Console behaviour: one submission per form (the server's one-time token is the real
// guard; this only spares the operator a confusing second page), and the language menu.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("form[data-once]")) return;
  if (form.dataset.submitted === "yes") {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "yes";
  form.querySelectorAll("button[type=submit]").forEach((button) => {
    button.setAttribute("aria-busy", "true");
  });
});
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
});
