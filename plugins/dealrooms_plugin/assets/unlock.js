/* Dealrooms unlock: opens a password-protected deal room in the browser.
 *
 * Every page of a protected deal is a generic unlock page carrying that
 * page's ciphertext (see dealrooms_plugin/protect.py for the format). This
 * script derives the key with WebCrypto (PBKDF2-HMAC-SHA256 -> AES-256-GCM),
 * keeps the derived key (never the password) for the next pages (see
 * "remembered keys"), then decrypts the page and replaces the document with
 * it. Encrypted files the page refers to (logo, calendar) become blob: URLs.
 * No crypto library: crypto.subtle only. No request leaves this origin.
 *
 * A page is opened only at the URL it was sealed for: its path inside the
 * deal is taken from location (never from the page) and is the associated
 * data of its ciphertext, so a page copied over another is "damaged".
 */
(function () {
  "use strict";

  var paramsEl = document.getElementById("dr-lock-params");
  var script = document.currentScript;
  if (!paramsEl || !script) { return; }
  var lock = JSON.parse(paramsEl.textContent);
  // Every word this script shows comes from the page, in the deal's language
  // (templates/protect/unlock.html, #dr-unlock-text): none is written here.
  var TEXT = {};
  try { TEXT = JSON.parse(document.getElementById("dr-unlock-text").textContent) || {}; } catch (e) { /* none */ }
  function t(key) { return typeof TEXT[key] === "string" ? TEXT[key] : ""; }
  var PREFIX = "dealrooms.key.";
  var STORE = PREFIX + lock.salt;
  // The site root is where this script was loaded from (<site>/assets/dealrooms/unlock.js),
  // not what the page says: a page copied to another depth cannot move it.
  var SITE = new URL("../../", script.src);
  var encoder = new TextEncoder();
  var MIME = { svg: "image/svg+xml", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp",
               gif: "image/gif", ico: "image/x-icon", ics: "text/calendar", json: "application/json",
               xml: "application/xml", pdf: "application/pdf", txt: "text/plain", csv: "text/csv" };

  function Damaged() { this.name = "Damaged"; }
  function Unreachable() { this.name = "Unreachable"; }

  // --- where this page is ----------------------------------------------------

  /* {root: URL of the deal's folder, path: this page's path inside the deal}
   * from location alone, or null when this page is not below the site root.
   * The deal's folder is the first lock.depth folders below the site root
   * (one for every Dealrooms site; the same for every page of a build, so a
   * copied page gains nothing by lying about it); a trailing "/" or a last
   * part without an extension means its index.html. */
  function placeInDeal() {
    if (location.origin !== SITE.origin || location.pathname.indexOf(SITE.pathname) !== 0) { return null; }
    var depth = typeof lock.depth === "number" && lock.depth > 0 ? lock.depth : 1;
    var parts = location.pathname.slice(SITE.pathname.length).split("/");
    if (parts.length <= depth) { parts.push(""); }
    var deal = parts.slice(0, depth), inside = parts.slice(depth);
    var last = inside[inside.length - 1];
    if (last === "") { inside[inside.length - 1] = "index.html"; } else if (last.indexOf(".") < 0) { inside.push("index.html"); }
    try {
      return { root: new URL(deal.join("/") + "/", SITE), path: inside.map(decodeURIComponent).join("/") };
    } catch (e) { return null; }
  }
  var HERE = placeInDeal();
  var ROOT = HERE ? HERE.root : SITE;

  // --- bytes and keys ------------------------------------------------------

  function fromB64(text) {
    var bin = atob(text), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function toB64(bytes) {
    var bin = "", view = new Uint8Array(bytes);
    for (var i = 0; i < view.length; i++) { bin += String.fromCharCode(view[i]); }
    return btoa(bin);
  }
  function aad(path) { return encoder.encode("dealrooms:v" + lock.v + ":" + path); }

  function derive(password) {
    var secret = encoder.encode(password.trim().normalize("NFC"));
    return crypto.subtle.importKey("raw", secret, "PBKDF2", false, ["deriveBits"]).then(function (base) {
      return crypto.subtle.deriveBits(
        { name: "PBKDF2", hash: "SHA-256", salt: fromB64(lock.salt), iterations: lock.iterations }, base, 256);
    });
  }
  function importKey(raw) {  // never extractable: nothing can read the key's bytes back out of it
    return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["decrypt"]);
  }
  function decrypt(key, path, blob) {  // blob: nonce (12 bytes) | ciphertext+tag
    return crypto.subtle.decrypt(
      { name: "AES-GCM", iv: blob.subarray(0, 12), additionalData: aad(path), tagLength: 128 }, key, blob.subarray(12));
  }
  function verify(key) {
    return decrypt(key, "#check", fromB64(lock.check)).then(function () { return true; }, function () { return false; });
  }
  function unframe(buffer) {  // flag | u32 length | body | padding
    var bytes = new Uint8Array(buffer);
    if (bytes.length < 5) { throw new Damaged(); }
    var length = ((bytes[1] << 24) | (bytes[2] << 16) | (bytes[3] << 8) | bytes[4]) >>> 0;
    if (5 + length > bytes.length) { throw new Damaged(); }
    var body = bytes.subarray(5, 5 + length);
    if (bytes[0] === 0) { return Promise.resolve(body); }
    if (bytes[0] !== 1) { throw new Damaged(); }
    var stream = new Blob([body]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (b) { return new Uint8Array(b); },
                                                   function () { throw new Damaged(); });
  }
  function open(key, path, blob) {
    return decrypt(key, path, blob).then(unframe, function () { throw new Damaged(); });
  }

  // --- remembered keys -------------------------------------------------------

  /* Every deal of a site shares one origin, and so its storage. A deal's key
   * (never the password) is kept, under the deal's salt:
   * - for this tab only (the default): in sessionStorage, as bytes. It is gone
   *   when the tab closes, but while it is open any script of this origin
   *   running in this tab could read it.
   * - "Remember on this device": in IndexedDB, as a non-extractable CryptoKey.
   *   A script of this origin (another deal's page, should one ever run a
   *   script) can still *use* it to decrypt this deal's files while it runs,
   *   but cannot read its bytes to take the key away: crypto.subtle refuses to
   *   export it and storing or copying it keeps it non-extractable. It does not
   *   stop such a script from sending what it decrypts; only an origin per
   *   deal (a subdomain or host per deal, see the README) does that.
   * Earlier versions kept remembered keys as bytes in localStorage: they are
   * moved into IndexedDB (or dropped) on the first visit. */
  var DB = "dealrooms", KEYS = "keys";

  function idb(mode, work) {  // run work(store) in one transaction; resolves with the request's result
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(KEYS); };
      request.onerror = function () { reject(request.error); };
      request.onsuccess = function () {
        var db = request.result, tx = db.transaction(KEYS, mode), step = work(tx.objectStore(KEYS));
        tx.oncomplete = function () { db.close(); resolve(step ? step.result : undefined); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      };
    });
  }
  function session(action, name, value) {  // sessionStorage can throw (storage off, private modes)
    try {
      if (action === "get") { return sessionStorage.getItem(name); }
      if (action === "set") { sessionStorage.setItem(name, value); } else { sessionStorage.removeItem(name); }
    } catch (e) { /* ask again on the next page */ }
    return null;
  }
  function storedNames(which) {  // reading window.localStorage itself throws when storage is blocked
    var names = [];
    try {
      var storage = window[which];
      for (var i = 0; i < storage.length; i++) {
        if (storage.key(i).indexOf(PREFIX) === 0) { names.push(storage.key(i)); }
      }
    } catch (e) { /* storage off */ }
    return names;
  }

  function migrate() {
    return Promise.all(storedNames("localStorage").map(function (name) {
      var raw = localStorage.getItem(name);
      localStorage.removeItem(name);
      return importKey(fromB64(raw)).then(function (key) {
        return idb("readwrite", function (store) { return store.put(key, name.slice(PREFIX.length)); });
      }).catch(function () { /* dropped: that deal asks for its password again */ });
    }));
  }
  function recall() {  // the remembered key of this deal, or null
    var raw = session("get", STORE);
    if (raw) { return importKey(fromB64(raw)).catch(function () { return null; }); }
    return idb("readonly", function (store) { return store.get(lock.salt); }).then(function (key) {
      return key instanceof CryptoKey ? key : null;
    }, function () { return null; });
  }
  function remember(raw, onDevice) {
    if (!onDevice) { session("set", STORE, toB64(raw)); return Promise.resolve(); }
    return importKey(raw).then(function (key) {
      return idb("readwrite", function (store) { return store.put(key, lock.salt); });
    }).catch(function () { session("set", STORE, toB64(raw)); });  // no IndexedDB: this tab only
  }
  function forgetHere(salt) {  // this tab's copies; salt "*" for every deal
    (salt === "*" ? storedNames("sessionStorage") : [PREFIX + salt]).forEach(function (name) {
      session("remove", name);
    });
  }
  function forget(salt) {
    forgetHere(salt);
    storedNames("localStorage").forEach(function (name) {
      if (salt === "*" || name === PREFIX + salt) { localStorage.removeItem(name); }
    });
    return idb("readwrite", function (store) { return salt === "*" ? store.clear() : store.delete(salt); })
      .catch(function () { /* nothing stored there */ });
  }

  // Other open tabs hold their own sessionStorage: tell them to forget too.
  var channel = window.BroadcastChannel ? new BroadcastChannel("dealrooms.lock") : null;
  function tellOtherTabs(salt) { if (channel) { channel.postMessage({ forget: salt }); } }
  if (channel) {
    channel.onmessage = function (event) {
      var salt = event.data && event.data.forget;
      if (typeof salt !== "string") { return; }
      forgetHere(salt);
      if ((salt === "*" || salt === lock.salt) && !document.getElementById("dr-lock-params")) { location.reload(); }
    };
  }

  // --- the unlock form ------------------------------------------------------

  var $ = function (id) { return document.getElementById(id); };
  var root = document.documentElement;

  function state(name) {  // always a class attribute, even "": the page knows this script ran
    root.className = name ? "dr-" + name : "";
  }
  function message(text) {
    $("dr-unlock-message").textContent = text || "";
  }
  function busy(on) {
    $("dr-submit").disabled = on;
    $("dr-password").readOnly = on;
    $("dr-submit").textContent = t(on ? "opening" : "open");
  }
  function showForm() {
    // Hidden and disabled in the page itself: without this script the form cannot be used.
    state("");
    $("dr-unlock-lead").hidden = false;
    $("dr-unlock-form").hidden = false;
    $("dr-unlock-fields").disabled = false;
    busy(false);
    var input = $("dr-password");
    if (document.activeElement !== input) { input.focus(); }
  }
  function fail(error) {
    if (error instanceof Damaged) {
      state("damaged");
      $("dr-unlock-form").hidden = true;
      $("dr-unlock-lead").hidden = false;
      $("dr-unlock-title").textContent = t("damaged_title");
      $("dr-unlock-lead").textContent = t("damaged_lead");
      $("dr-unlock-help").textContent = t("damaged_help");
      return;
    }
    showForm();
    if (error instanceof Unreachable) {
      message(t("unreachable"));
    } else {
      message(t("failed"));
      if (window.console) { console.error(error); }
    }
  }
  function fromFile() {
    // Opened from disk: the browser will not fetch the deal's encrypted files from file: URLs.
    state("file");
    $("dr-unlock-title").textContent = t("file_title");
    $("dr-unlock-served").hidden = false;
    var folder = decodeURIComponent(SITE.pathname).replace(/^\/([A-Za-z]:\/)/, "$1").replace(/\/$/, "") || "/";
    $("dr-unlock-served").querySelector("pre code").textContent =
      "python3 -m http.server 8000 --directory \"" + folder + "\"";
    $("dr-unlock-served-url").textContent = "http://localhost:8000/" + location.pathname.slice(SITE.pathname.length);
  }

  function setup() {
    if (location.protocol === "file:") { fromFile(); return; }
    var form = $("dr-unlock-form"), input = $("dr-password"), reveal = $("dr-reveal");
    if (!window.crypto || !crypto.subtle || !window.DecompressionStream) {
      state("unsupported");
      form.hidden = false;
      message(t(!window.isSecureContext ? "insecure" : "unsupported"));
      return;
    }
    if (!HERE || HERE.path !== lock.path) { fail(new Damaged()); return; }  // a page copied to another URL
    reveal.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      reveal.textContent = t(show ? "hide" : "show");
      reveal.setAttribute("aria-pressed", String(show));
      input.focus();
    });
    input.addEventListener("input", function () { message(""); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var password = input.value;
      if (!password.trim()) { message(t("empty")); input.focus(); return; }
      message("");
      busy(true);
      derive(password).then(function (raw) {
        return importKey(raw).then(function (key) {
          return verify(key).then(function (ok) {
            if (!ok) {
              busy(false);
              message(t("wrong"));
              input.select();
              return;
            }
            input.value = "";
            return remember(raw, $("dr-remember").checked).then(function () { return reveal_(key); });
          });
        });
      }).catch(fail);
    });

    state(session("get", STORE) ? "auto" : "wait");
    migrate().then(recall).then(function (key) {
      if (!key) { showForm(); return; }
      state("auto");
      return verify(key).then(function (ok) {
        if (!ok) { return forget(lock.salt).then(showForm); }  // password changed since: ask again
        return reveal_(key);
      });
    }).catch(function (error) {
      if (error instanceof Damaged || error instanceof Unreachable) { fail(error); } else { forget(lock.salt).then(showForm); }
    });
  }

  // --- the real page -------------------------------------------------------

  var ATTRS = [["img", "src"], ["source", "src"], ["link", "href"], ["a", "href"], ["image", "href"], ["use", "href"]];

  function fetchFile(key, path, name) {
    return fetch(new URL(name, ROOT), { credentials: "same-origin" })
      .then(function (response) { if (!response.ok) { throw new Unreachable(); } return response.arrayBuffer(); },
            function () { throw new Unreachable(); })
      .then(function (buffer) { return open(key, path, new Uint8Array(buffer)); })
      .then(function (bytes) {
        var ext = path.split(".").pop().toLowerCase();
        return URL.createObjectURL(new Blob([bytes], { type: MIME[ext] || "application/octet-stream" }));
      });
  }

  function reveal_(key) {
    // Decrypted under the path the browser found the page at, not the one it claims.
    return open(key, HERE.path, fromB64(lock.data)).then(function (bytes) {
      var payload = JSON.parse(new TextDecoder().decode(bytes));
      var doc = new DOMParser().parseFromString(payload.html, "text/html");
      var files = payload.files || {};
      var byUrl = {};  // absolute URL of a sealed file -> its path inside the deal
      Object.keys(files).forEach(function (path) { byUrl[new URL(path, ROOT).href] = path; });

      var uses = [];  // [element, attribute, path]
      ATTRS.forEach(function (pair) {
        doc.querySelectorAll(pair[0] + "[" + pair[1] + "]").forEach(function (el) {
          var url;
          try { url = new URL(el.getAttribute(pair[1]), location.href); } catch (e) { return; }
          url.hash = ""; url.search = "";
          if (byUrl[url.href]) { uses.push([el, pair[1], byUrl[url.href]]); }
        });
      });
      var needed = {};
      uses.forEach(function (use) { needed[use[2]] = true; });

      var paths = Object.keys(needed);
      return Promise.all(paths.map(function (path) { return fetchFile(key, path, files[path]); })).then(function (urls) {
        var blobs = {};
        paths.forEach(function (path, i) { blobs[path] = urls[i]; });
        uses.forEach(function (use) {
          var el = use[0], path = use[2];
          el.setAttribute(use[1], blobs[path]);
          if (el.tagName.toLowerCase() === "a" && !el.getAttribute("download")) {  // keep the real file name
            el.setAttribute("download", path.split("/").pop());
          }
        });
        withoutInstantLoading(doc);
        addLockMenu(doc);
        show(doc);
      });
    });
  }

  function withoutInstantLoading(doc) {
    // Material's instant loading would fetch the next page's *sealed* HTML and
    // swap it in; plain navigation loads it and this script opens it instead.
    var config = doc.getElementById("__config");
    if (!config) { return; }
    try {
      var data = JSON.parse(config.textContent);
      data.features = (data.features || []).filter(function (f) { return f.indexOf("navigation.instant") !== 0; });
      config.textContent = JSON.stringify(data);
    } catch (e) { /* leave Material's configuration as it is */ }
  }

  var LOCK_ICON = '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path fill="currentColor" ' +
    'd="M12 17a2 2 0 0 0 2-2 2 2 0 0 0-2-2 2 2 0 0 0-2 2 2 2 0 0 0 2 2m6-9a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V10a2 ' +
    '2 0 0 1 2-2h1V6a5 5 0 0 1 5-5 5 5 0 0 1 5 5v2h1m-6-5a3 3 0 0 0-3 3v2h6V6a3 3 0 0 0-3-3Z"/></svg>';

  function addLockMenu(doc) {
    // A disclosure (button + the two choices under it): native buttons, so Tab,
    // Enter and Space work; Escape closes it (see listenToLockMenu).
    var css = doc.createElement("link");
    css.rel = "stylesheet";
    css.href = new URL("assets/dealrooms/unlock.css", SITE).href;
    doc.head.appendChild(css);
    var wrap = doc.createElement("div");
    wrap.className = "dr-lock";
    wrap.innerHTML =
      '<button type="button" class="dr-lock-button" data-dr-lock-toggle aria-expanded="false" aria-controls="dr-lock-menu">' +
      LOCK_ICON + '<span></span></button>' +
      '<div class="dr-lock__menu" id="dr-lock-menu" role="group" hidden>' +
      '<button type="button" class="dr-lock__item" data-dr-lock="this"><small></small></button>' +
      '<button type="button" class="dr-lock__item" data-dr-lock="all"><small></small></button></div>';
    // Words set as text, never parsed as HTML (they come from the catalogs, but still).
    var toggle = wrap.querySelector("[data-dr-lock-toggle]"), menu = wrap.querySelector(".dr-lock__menu");
    toggle.title = t("lock_title");
    toggle.querySelector("span").textContent = t("lock");
    menu.setAttribute("aria-label", t("lock"));
    [["this", "lock_this"], ["all", "lock_all"]].forEach(function (pair) {
      var item = menu.querySelector('[data-dr-lock="' + pair[0] + '"]');
      var note = item.querySelector("small");
      item.insertBefore(doc.createTextNode(t(pair[1])), note);
      note.textContent = t(pair[1] + "_note");
    });
    var header = doc.querySelector(".md-header__inner");
    if (header) {
      header.appendChild(wrap);
    } else {
      wrap.className += " dr-lock--floating";
      wrap.firstChild.className += " dr-lock-button--floating";
      doc.body.appendChild(wrap);
    }
  }

  function listenToLockMenu() {
    // document.open() dropped every listener: these are on the new document.
    function menu() { return document.getElementById("dr-lock-menu"); }
    function toggle() { return document.querySelector("[data-dr-lock-toggle]"); }
    function setOpen(open, focusToggle) {
      if (!menu()) { return; }
      menu().hidden = !open;
      toggle().setAttribute("aria-expanded", String(open));
      if (open) { menu().querySelector("button").focus(); } else if (focusToggle) { toggle().focus(); }
    }
    document.addEventListener("click", function (event) {
      var target = event.target && event.target.closest ? event.target : null;
      if (target && target.closest("[data-dr-lock-toggle]")) { setOpen(menu().hidden, false); return; }
      var choice = target && target.closest("[data-dr-lock]");
      if (!choice) { if (menu() && !menu().hidden && !(target && target.closest(".dr-lock"))) { setOpen(false, false); } return; }
      event.preventDefault();
      var salt = choice.getAttribute("data-dr-lock") === "all" ? "*" : lock.salt;
      choice.disabled = true;
      forget(salt).then(function () { tellOtherTabs(salt); location.reload(); });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu() && !menu().hidden) { setOpen(false, true); }
    });
    document.addEventListener("focusin", function (event) {
      if (menu() && !menu().hidden && !(event.target.closest && event.target.closest(".dr-lock"))) { setOpen(false, false); }
    });
  }

  function show(doc) {
    var html = "<!doctype html>\n" + doc.documentElement.outerHTML;
    document.open();
    document.write(html);
    document.close();
    listenToLockMenu();
  }

  setup();
})();
