/* The donation form: goods lines only for goods, and as many as needed.
   Without JavaScript the form still works: the goods table is simply always shown. */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  // select2 (the admin's autocomplete) draws a text box with no name of its own: give it the
  // label of the field it stands for, whenever select2 draws one
  function nameSearchBoxes() {
    var boxes = document.querySelectorAll(".select2-selection__rendered[id$='-container']:not([aria-label])");
    Array.prototype.forEach.call(boxes, function (box) {
      var selectId = box.id.replace(/^select2-/, "").replace(/-container$/, "");
      var label = document.querySelector("label[for='" + selectId + "']");
      if (label) { box.setAttribute("aria-label", label.textContent.trim()); }
    });
  }
  if (window.MutationObserver) {
    new MutationObserver(nameSearchBoxes).observe(document.documentElement, { childList: true, subtree: true });
  }
  ready(function () {
    var kind = document.getElementById("id_kind");
    var goods = document.getElementById("donation-goods");
    var amount = document.getElementById("id_amount");
    var addButton = document.getElementById("add-goods-line");
    var template = document.getElementById("empty-goods-line");
    var table = document.getElementById("donation-items");
    var total = document.getElementById("id_items-TOTAL_FORMS");
    if (!kind || !goods) { return; }
    var amountRow = amount ? amount.closest(".form-row") : null;

    function showForKind() {
      var inKind = kind.value === "in_kind";
      goods.hidden = !inKind;
      if (amountRow) { amountRow.hidden = inKind; }
    }
    kind.addEventListener("change", showForKind);
    showForKind();

    if (addButton && template && table && total) {
      addButton.hidden = false;
      addButton.addEventListener("click", function () {
        var index = parseInt(total.value, 10);
        var row = template.innerHTML.replace(/__prefix__/g, String(index));
        table.tBodies[0].insertAdjacentHTML("beforeend", row);
        total.value = String(index + 1);
      });
    }
  });
})();
