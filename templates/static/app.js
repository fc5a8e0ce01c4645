// Conveniences only: every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: data-copy names the element whose value or text is copied.
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const text = "value" in source ? source.value : source.textContent;
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        // Plain http on another host has no clipboard API: select and copy instead.
        const area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        document.execCommand("copy");
        area.remove();
      }
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => (button.textContent = label), 1500);
    });
  });

  // Forms that ask before they act (rotate URL, revoke, delete a secret).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // Event pages refresh while the event is still moving, unless the user is typing.
  const live = document.querySelector("[data-autorefresh]");
  if (live) {
    const delay = Number(live.dataset.autorefresh) || 2000;
    setTimeout(function again() {
      const busy = document.activeElement && /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName);
      if (busy || document.hidden) return setTimeout(again, delay);
      window.location.reload();
    }, delay);
  }

  // Field picker: a click on a sample field fills the condition or template input the user
  // was last in. Condition fields get the path, condition values the sample value,
  // templates get `{{ event.path }}` at the cursor.
  const picker = document.getElementById("picker");
  if (picker) {
    let target = null;
    const note = picker.querySelector(".pick-note");
    const hint = (text) => {
      picker.classList.add("pick-hint");
      if (note) {
        note.textContent = text;
        note.hidden = false;
      }
      setTimeout(() => picker.classList.remove("pick-hint"), 1500);
    };
    document.addEventListener("focusin", (event) => {
      if (event.target.matches && event.target.matches("[data-pick]")) target = event.target;
    });
    picker.querySelectorAll("button.pick").forEach((button) => {
      // Keep the focus (and the cursor) in the field being filled.
      button.addEventListener("mousedown", (event) => event.preventDefault());
      button.addEventListener("click", () => {
        if (!target || !document.body.contains(target)) {
          hint("Click into a condition or template field first, then click the field here.");
          return;
        }
        const path = button.dataset.path;
        const kind = target.dataset.pick;
        if (kind === "field") {
          target.value = path;
        } else if (kind === "value") {
          target.value = button.dataset.value;
        } else if (/^(headers|meta)\./.test(path)) {
          // Templates read the event and the transform output only (see the README).
          hint("Templates cannot read headers or meta: pick a payload field, or use a condition row for this one.");
          return;
        } else {
          // The picker already writes `event.` before a key named like a root (event.meta.x).
          const rooted = /^(event|output)\./.test(path) ? path : `event.${path}`;
          const start = target.selectionStart ?? target.value.length;
          const end = target.selectionEnd ?? start;
          target.setRangeText(`{{ ${rooted} }}`, start, end, "end");
        }
        target.focus();
        target.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
  }

  // Condition rows: the value input only for operators that take one, "ignore case" only
  // for text operators.
  const shapeRow = (select) => {
    const row = select.closest(".cond-row");
    const option = select.selectedOptions[0];
    if (!row || !option) return;
    const value = row.querySelector(".cond-value");
    const caseBox = row.querySelector(".cond-case");
    const takesValue = option.dataset.value === "1";
    if (value) {
      value.hidden = !takesValue;
      if (!takesValue) value.querySelector("input").value = "";
    }
    if (caseBox) {
      caseBox.hidden = option.dataset.text !== "1";
      if (caseBox.hidden) caseBox.querySelector("input").checked = false;
    }
  };
  document.querySelectorAll("select.cond-op").forEach((select) => {
    shapeRow(select);
    select.addEventListener("change", () => shapeRow(select));
  });

  // Enter in an action preset's one-line inputs adds that action (not the hidden Save).
  document.querySelectorAll(".preset-panel input").forEach((input) => {
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const add = input.form.querySelector("button[value='add_action_preset']");
      if (add) add.click();
    });
  });

  // The compiled Rhai is of the rows as last sent: say so once a row changes on the page.
  const conditions = document.getElementById("conditions");
  const stale = conditions && conditions.querySelector(".rhai-stale");
  if (stale) {
    const markStale = () => {
      stale.hidden = false;
      const pre = conditions.querySelector("pre.compiled");
      if (pre) pre.classList.add("stale");
    };
    conditions.addEventListener("input", markStale);
    conditions.addEventListener("change", markStale);
  }

  // "Switch to script" is one way: ask first.
  document.querySelectorAll("button[data-confirm]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });

  // Tab in code areas indents instead of leaving the field.
  document.querySelectorAll("textarea.code").forEach((area) => {
    area.addEventListener("keydown", (event) => {
      if (event.key !== "Tab" || event.shiftKey || area.readOnly) return;
      event.preventDefault();
      area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
    });
  });

  // Import: read the chosen files into hidden fields, one pair per file.
  const files = document.getElementById("import-files");
  if (files) {
    const form = files.form;
    const chosen = document.getElementById("import-chosen");
    files.addEventListener("change", async () => {
      form.querySelectorAll("[data-imported]").forEach((el) => el.remove());
      chosen.textContent = "";
      let index = 0;
      for (const file of files.files) {
        const text = await file.text();
        for (const [part, value] of [["name", file.name], ["text", text]]) {
          const input = document.createElement("input");
          input.type = "hidden";
          input.name = `file.${index}.${part}`;
          input.value = value;
          input.dataset.imported = "";
          form.appendChild(input);
        }
        const item = document.createElement("li");
        item.textContent = `${file.name} (${text.length} characters)`;
        chosen.appendChild(item);
        index += 1;
      }
    });
  }
});
