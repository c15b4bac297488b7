/* Dreamina consent banner. Plain ES2017, no dependencies, no eval, no inline styles (works under a strict CSP).
 *
 *   <link rel="stylesheet" href="https://api.example/static/consent.css">
 *   <script src="https://api.example/static/consent.js" data-api="https://api.example" defer></script>
 *
 * Reads the choice in force from GET /v1/consent and shows the banner only when this device (or account) has no
 * choice of its own under the current policy; writes with PUT /v1/consent. Both send the dreamina_device cookie
 * (credentials: "include"), so the API must list the page's origin in DREAMINA_CORS_ALLOWED_ORIGINS.
 * Global Privacy Control (navigator.globalPrivacyControl, sent by the browser as Sec-GPC: 1): the API keeps
 * marketing off and sale/share opted out for good, so the banner offers no "accept all", keeps marketing off and
 * says that the signal was honoured.
 *
 * window.dreaminaConsent: choice (the choice in force, or null), ready (a promise of it), error,
 * onChange(cb) (cb(choice) now if known and after every change; returns an unsubscribe function), open(), close().
 */
(function () {
  "use strict";
  if (window.dreaminaConsent) {
    return; // embedded twice: the first copy serves
  }
  const script = document.currentScript;
  const data = (script && script.dataset) || {};
  const scriptOrigin = script && script.src ? new URL(script.src, document.baseURI).origin : window.location.origin;
  const apiBase = (data.api || scriptOrigin).replace(/\/+$/, "");
  const policyUrl = data.policyUrl || "";
  const CHOSEN_BY_PERSON = ["banner", "settings", "api"];
  const PURPOSES = [
    { key: "functional", label: "Functional", hint: "Remember your settings between visits." },
    { key: "analytics", label: "Analytics", hint: "Count page views and feature use, with no name or address." },
    { key: "marketing", label: "Marketing", hint: "News and offers based on how you use the service." },
  ];
  const ID = "dreamina-consent";
  const listeners = [];
  let current = null;
  let root = null;
  let returnFocus = null;
  let resolveReady = null;

  function browserGpc() {
    return navigator.globalPrivacyControl === true;
  }

  function gpcInForce() {
    return browserGpc() || Boolean(current && current.gpc);
  }

  function choiceOf(body) {
    const choice = {
      necessary: true,
      functional: body.functional === true,
      analytics: body.analytics === true,
      marketing: body.marketing === true,
      sale_share_opt_out: body.sale_share_opt_out === true,
      gpc: body.gpc === true,
      method: body.method || null,
      policy_version: body.policy_version === undefined ? null : body.policy_version,
      current_policy_version: body.current_policy_version,
      under_current_policy: body.under_current_policy === true,
      recorded_at: body.recorded_at || null,
    };
    // A choice of the person's own (a GPC record alone is not one) under the policy in force.
    choice.chosen = CHOSEN_BY_PERSON.indexOf(choice.method) >= 0 && choice.under_current_policy;
    return Object.freeze(choice);
  }

  async function call(method, body) {
    const init = { method: method, credentials: "include", cache: "no-store", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(apiBase + "/v1/consent", init);
    if (!response.ok) {
      throw new Error("the consent API answered " + response.status);
    }
    return choiceOf(await response.json());
  }

  function notify() {
    listeners.slice().forEach(function (cb) {
      try {
        cb(current);
      } catch (err) {
        window.setTimeout(function () {
          throw err; // a listener's error is reported, and spares the other listeners
        });
      }
    });
  }

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) {
      el.className = className;
    }
    if (text) {
      el.textContent = text;
    }
    return el;
  }

  function button(action, text) {
    const el = element("button", ID + "__button " + ID + "__button--" + action, text);
    el.type = "button";
    el.dataset.action = action;
    return el;
  }

  function purposeRow(purpose, gpc) {
    const row = element("div", ID + "__purpose");
    const box = element("input", ID + "__checkbox");
    box.type = "checkbox";
    box.id = ID + "-" + purpose.key;
    box.name = purpose.key;
    box.checked = Boolean(current && current[purpose.key]);
    const label = element("label", ID + "__label", purpose.label);
    label.htmlFor = box.id;
    const hint = element("span", ID + "__hint", purpose.hint);
    hint.id = box.id + "-hint";
    box.setAttribute("aria-describedby", hint.id);
    if (purpose.key === "marketing" && gpc) {
      box.checked = false;
      box.disabled = true;
      hint.textContent = "Off: your browser's Global Privacy Control signal is honoured.";
    }
    row.append(box, label, hint);
    return row;
  }

  function build() {
    const gpc = gpcInForce();
    const dialog = element("section", ID);
    dialog.id = ID;
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "false");
    dialog.setAttribute("aria-labelledby", ID + "-title");
    dialog.setAttribute("aria-describedby", ID + "-text");
    dialog.tabIndex = -1; // focused when it opens (announced; no button pre-selected), Tab reaches the buttons
    const title = element("h2", ID + "__title", "Your privacy choices");
    title.id = ID + "-title";
    const text = element(
      "p",
      ID + "__text",
      "We use strictly necessary cookies to run the service and to remember this choice. " +
        "With your permission we also use data for the purposes below. You can change your mind at any time."
    );
    text.id = ID + "-text";
    dialog.append(title, text);
    if (gpc) {
      const notice = element(
        "p",
        ID + "__gpc",
        "Global Privacy Control detected and honoured: marketing stays off and your data is never sold or shared."
      );
      notice.id = ID + "-gpc";
      dialog.setAttribute("aria-describedby", ID + "-text " + notice.id);
      dialog.dataset.gpc = "honoured";
      dialog.append(notice);
    }
    if (policyUrl) {
      const link = element("a", ID + "__policy", "Privacy policy");
      link.href = policyUrl;
      dialog.append(link);
    }
    const purposes = element("fieldset", ID + "__purposes");
    purposes.id = ID + "-purposes";
    purposes.hidden = true;
    purposes.append(element("legend", ID + "__legend", "Choose what you allow"));
    const necessary = purposeRow({ key: "necessary", label: "Strictly necessary", hint: "Always on." }, gpc);
    necessary.querySelector("input").checked = true;
    necessary.querySelector("input").disabled = true;
    purposes.append(necessary);
    PURPOSES.forEach(function (purpose) {
      purposes.append(purposeRow(purpose, gpc));
    });
    const actions = element("div", ID + "__actions");
    if (!gpc) {
      actions.append(button("accept", "Accept all")); // GPC opts out of marketing: no "accept all" contradicts it
    }
    const choose = button("choose", "Choose");
    choose.setAttribute("aria-expanded", "false");
    choose.setAttribute("aria-controls", purposes.id);
    const save = button("save", "Save choices");
    save.hidden = true;
    actions.append(button("reject", "Reject all"), choose, save);
    const status = element("p", ID + "__status");
    status.setAttribute("role", "status");
    dialog.append(purposes, actions, status);
    dialog.addEventListener("click", onClick);
    dialog.addEventListener("keydown", onKeydown);
    return dialog;
  }

  function selected() {
    const out = {};
    PURPOSES.forEach(function (purpose) {
      out[purpose.key] = root.querySelector("#" + ID + "-" + purpose.key).checked;
    });
    return out;
  }

  async function save(choices) {
    const status = root.querySelector("." + ID + "__status");
    const buttons = root.querySelectorAll("button");
    buttons.forEach(function (b) {
      b.disabled = true;
    });
    status.textContent = "Saving…";
    if (gpcInForce()) {
      choices.marketing = false; // what the API records under GPC anyway
    }
    try {
      current = await call("PUT", Object.assign({}, choices, { method: "banner" }));
    } catch (err) {
      status.textContent = "Your choice could not be saved. Please try again.";
      buttons.forEach(function (b) {
        b.disabled = false;
      });
      return;
    }
    close();
    notify();
  }

  function onClick(event) {
    const target = event.target.closest("button[data-action]");
    if (!target) {
      return;
    }
    const action = target.dataset.action;
    if (action === "accept") {
      save({ functional: true, analytics: true, marketing: true });
    } else if (action === "reject") {
      save({ functional: false, analytics: false, marketing: false });
    } else if (action === "save") {
      save(selected());
    } else if (action === "choose") {
      const purposes = root.querySelector("#" + ID + "-purposes");
      const opening = purposes.hidden;
      purposes.hidden = !opening;
      target.setAttribute("aria-expanded", String(opening));
      root.querySelector("[data-action=save]").hidden = !opening;
      if (opening) {
        root.querySelector("#" + ID + "-" + PURPOSES[0].key).focus();
      }
    }
  }

  function onKeydown(event) {
    if (event.key === "Escape" && current && current.chosen) {
      close(); // only a banner reopened over a choice already made can be dismissed without choosing
    }
  }

  function open() {
    if (root) {
      return;
    }
    const active = document.activeElement;
    returnFocus = active && active !== document.body ? active : null;
    root = build();
    document.body.append(root);
    root.focus();
  }

  function close() {
    if (!root) {
      return;
    }
    root.remove();
    root = null;
    if (returnFocus && document.contains(returnFocus)) {
      returnFocus.focus();
    }
    returnFocus = null;
  }

  function onChange(cb) {
    if (typeof cb !== "function") {
      throw new TypeError("onChange needs a function");
    }
    listeners.push(cb);
    if (current) {
      cb(current);
    }
    return function unsubscribe() {
      const at = listeners.indexOf(cb);
      if (at >= 0) {
        listeners.splice(at, 1);
      }
    };
  }

  const api = { error: null };
  const ready = new Promise(function (resolve) {
    resolveReady = resolve;
  });

  window.dreaminaConsent = Object.freeze({
    get choice() {
      return current;
    },
    get error() {
      return api.error;
    },
    ready: ready,
    onChange: onChange,
    open: open,
    close: close,
  });

  async function start() {
    try {
      current = await call("GET");
    } catch (err) {
      api.error = String((err && err.message) || err); // e.g. this origin is not allowed by the API's CORS
      resolveReady(null);
      return;
    }
    resolveReady(current);
    notify();
    if (!current.chosen) {
      open();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start, { once: true });
  } else {
    start();
  }
})();
