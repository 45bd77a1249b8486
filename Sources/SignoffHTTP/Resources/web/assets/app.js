// Signoff web app. Pages work as plain forms; this adds what a weak signal needs:
// a tap is never lost (an outbox in IndexedDB, replayed with its Idempotency-Key) and never
// doubled (buttons disable; the key makes a retry the same decision on the server).
(function () {
  'use strict';

  var DB_NAME = 'signoff-outbox';
  var STORE = 'items';
  var PAGES_CACHE = 'signoff-pages-v1';
  var STATUS_TEXT = { pending: '待发送', sending: '发送中', synced: '已同步', conflict: '冲突', refused: '未通过' };

  function meta(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.getAttribute('content') : '';
  }
  var user = meta('signoff-user');

  // ---- IndexedDB outbox ------------------------------------------------------------
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          var store = request.result.createObjectStore(STORE, { keyPath: 'key' });
          store.createIndex('user', 'user');
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }
  function tx(mode, work) {
    return db().then(function (database) {
      return new Promise(function (resolve, reject) {
        var transaction = database.transaction(STORE, mode);
        var result = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        transaction.onerror = function () { reject(transaction.error); };
      });
    });
  }
  function put(item) { return tx('readwrite', function (store) { store.put(item); }); }
  function all() {
    return tx('readonly', function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).filter(function (item) { return item.user === user; })
        .sort(function (a, b) { return a.createdAt - b.createdAt; });
    });
  }
  function remove(key) { return tx('readwrite', function (store) { store.delete(key); }); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return 'web-' + crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return 'web-' + Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  // ---- Sending -----------------------------------------------------------------------
  var sending = false;
  function setOffline(offline) {
    var banner = document.getElementById('offline-banner');
    if (banner) { banner.hidden = !offline; }
  }

  /// Sends one item. Resolves with the item's new status; a network failure leaves it pending.
  function send(item) {
    delete item.notBefore;
    var body = new URLSearchParams();
    item.fields.forEach(function (pair) {
      // The CSRF token of the session now (a cached page may carry an older copy).
      body.append(pair[0], pair[0] === 'csrf' ? (meta('signoff-csrf') || pair[1]) : pair[1]);
    });
    return fetch(item.url, {
      method: 'POST', body: body, credentials: 'same-origin',
      headers: { 'Accept': 'application/json' }
    }).then(function (response) {
      setOffline(false);
      return response.json().catch(function () { return null; }).then(function (answer) {
        if (response.status === 429 || response.status >= 500) {
          // Too many changes, or the service is busy or cannot reach its database: nothing was
          // saved, so the item waits (as long as Retry-After says) and is sent again.
          item.status = 'pending';
          item.message = response.status === 429 ? '操作太频繁，稍后自动重试。' : '服务暂时不可用，稍后自动重试。';
          retryLater(parseInt(response.headers.get('Retry-After') || '', 10), item);
        } else if (!answer || answer.result === 'login') {
          item.status = 'pending';
          item.message = answer && answer.result === 'login' ? '请重新登录，之后会自动发送。' : '服务暂时不可用，稍后自动重试。';
        } else if (answer.result === 'ok' || answer.result === 'replayed') {
          item.status = 'synced';
          item.message = answer.message || '';
          item.location = answer.location || '';
        } else {
          item.status = answer.result === 'conflict' ? 'conflict' : 'refused';
          item.message = answer.message || '';
          item.location = answer.location || '';
        }
        item.sentAt = Date.now();
        return put(item).then(function () { return item; });
      });
    }, function () {
      setOffline(true);
      item.status = 'pending';
      item.message = '无网络，有网后自动发送。';
      return put(item).then(function () { return item; });
    });
  }

  /// After a 429 or 503: the item is not sent again before Retry-After (at least 2 s, at most
  /// 10 min), and the outbox tries again by itself then.
  var retryTimer = null;
  function retryLater(seconds, item) {
    var wait = Math.min(600, Math.max(2, isNaN(seconds) ? 5 : seconds)) * 1000;
    item.notBefore = Date.now() + wait;
    if (retryTimer) { clearTimeout(retryTimer); }
    retryTimer = setTimeout(function () { retryTimer = null; replay(); }, wait + 100);
  }

  function replay() {
    if (sending || !user) { return Promise.resolve(); }
    sending = true;
    return all().then(function (items) {
      var pending = items.filter(function (item) { return item.status === 'pending' || item.status === 'sending'; });
      return pending.reduce(function (chain, item) {
        return chain.then(function (go) {
          if (go === false) { return false; }
          if (item.notBefore && item.notBefore > Date.now()) { return true; }
          // Offline, or told to wait (429, 503): the rest waits too.
          return send(item).then(function (sent) { return sent.status !== 'pending' || (navigator.onLine && !sent.notBefore); });
        });
      }, Promise.resolve(true));
    }).then(render, render).then(function () { sending = false; }, function () { sending = false; });
  }

  function render() {
    var section = document.getElementById('outbox');
    var list = document.getElementById('outbox-list');
    if (!section || !list || !user) { return Promise.resolve(); }
    return all().then(function (items) {
      var recent = Date.now() - 10 * 60 * 1000;
      var shown = items.filter(function (item) { return item.status !== 'synced' || (item.sentAt || 0) > recent; });
      list.textContent = '';
      shown.slice(-10).forEach(function (item) {
        var row = document.createElement('li');
        row.className = 'outbox-item outbox-' + item.status;
        row.setAttribute('data-key', item.key);
        var label = document.createElement('span');
        label.textContent = item.label;
        if (item.message) {
          var detail = document.createElement('span');
          detail.className = 'outbox-detail';
          detail.textContent = item.message;
          label.appendChild(detail);
        }
        var status = document.createElement('span');
        status.className = 'outbox-status';
        status.textContent = STATUS_TEXT[item.status] || item.status;
        row.appendChild(label);
        row.appendChild(status);
        if (item.status === 'conflict' || item.status === 'refused') {
          var dismiss = document.createElement('button');
          dismiss.type = 'button';
          dismiss.className = 'button';
          dismiss.textContent = '知道了';
          dismiss.addEventListener('click', function () { remove(item.key).then(render); });
          row.appendChild(dismiss);
        }
        list.appendChild(row);
      });
      section.hidden = shown.length === 0;
    });
  }

  // ---- Forms -------------------------------------------------------------------------
  function disable(form) {
    Array.prototype.forEach.call(form.querySelectorAll('button[type=submit], button:not([type])'), function (button) {
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
    });
  }
  function enable(form) {
    Array.prototype.forEach.call(form.querySelectorAll('button'), function (button) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    });
  }

  /// What the outbox shows for an item: the form's name, and the plate or person it is about.
  function label(form) {
    var text = form.getAttribute('data-outbox') || '操作';
    var plate = form.querySelector('input[name=plate]');
    if (plate && plate.value) { text += ' ' + plate.value; }
    return text;
  }

  function queue(form, event) {
    event.preventDefault();
    if (form.getAttribute('data-busy') === '1') { return; }
    form.setAttribute('data-busy', '1');
    disable(form);
    var fields = [];
    new FormData(form).forEach(function (value, name) { fields.push([name, String(value)]); });
    // The pressed button's value (已走访 or 不在家 on one form), as a plain post would send it.
    var submitter = event.submitter;
    if (submitter && submitter.name) { fields.push([submitter.name, submitter.value]); }
    var keyInput = form.querySelector('input[name=idempotency_key]');
    var key = keyInput && keyInput.value ? keyInput.value : newKey();
    if (keyInput && !keyInput.value) { keyInput.value = key; fields.push(['idempotency_key', key]); }
    var item = {
      key: key, user: user, url: form.getAttribute('action'), fields: fields,
      label: label(form) + (submitter && submitter.name ? ' ' + submitter.textContent.trim() : ''), status: 'pending', message: '', createdAt: Date.now()
    };
    put(item).then(function () {
      var draft = form.getAttribute('data-draft');
      if (draft) { try { localStorage.removeItem('signoff-draft-' + draft); } catch (e) { /* private mode */ } }
      return render().then(function () { return send(item); });
    }).then(function (sent) {
      render();
      // Sent now: show where it led, which says how it went (the pass as it is now, also when
      // someone else was first), so the outbox need not list it.
      if ((sent.status === 'synced' || sent.status === 'conflict') && sent.location) {
        remove(sent.key).then(function () { window.location.assign(sent.location); });
        return;
      }
      if (sent.status === 'pending') {
        // Saved on the phone; a later submission of this form is a new decision with a new key.
        if (form.hasAttribute('data-fresh')) {
          form.reset();
          if (keyInput) { keyInput.value = newKey(); }
          form.removeAttribute('data-busy');
          enable(form);
        }
        return;
      }
      // Conflict or refusal: shown in the outbox; the form may be corrected and sent again.
      if (keyInput) { keyInput.value = newKey(); }
      form.removeAttribute('data-busy');
      enable(form);
    }).catch(function () {
      // IndexedDB unavailable (some in-app browsers): fall back to the plain form post.
      form.removeAttribute('data-busy');
      form.removeEventListener('submit', onSubmit);
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  function onSubmit(event) {
    // A page's own script handled it (the checkpoint page verifies a code in the page).
    if (event.defaultPrevented) { return; }
    var form = event.target;
    if (form.hasAttribute('data-outbox') && window.indexedDB && window.fetch && user) {
      queue(form, event);
      return;
    }
    if (form.getAttribute('data-busy') === '1') { event.preventDefault(); return; }
    form.setAttribute('data-busy', '1');
    // Let the browser submit first, then disable, so the pressed button's value is sent.
    window.setTimeout(function () { disable(form); }, 0);
    if (form.getAttribute('action') === '/app/logout' && window.caches) {
      caches.delete(PAGES_CACHE);
    }
  }

  function setUpDrafts() {
    Array.prototype.forEach.call(document.querySelectorAll('form[data-draft]'), function (form) {
      var name = 'signoff-draft-' + form.getAttribute('data-draft');
      var area = form.querySelector('textarea');
      if (!area) { return; }
      try {
        var saved = localStorage.getItem(name);
        if (saved && !area.value) { area.value = saved; }
        area.addEventListener('input', function () { localStorage.setItem(name, area.value); });
      } catch (e) { /* storage unavailable: no draft */ }
    });
  }

  function setUpPickAll() {
    var button = document.getElementById('pick-all');
    if (!button) { return; }
    button.addEventListener('click', function () {
      var boxes = document.querySelectorAll('input.pick');
      var allChecked = Array.prototype.every.call(boxes, function (box) { return box.checked; });
      Array.prototype.forEach.call(boxes, function (box) { box.checked = !allChecked; });
    });
  }

  // Print buttons (a credential, a certificate): no inline handlers under the CSP.
  document.addEventListener('click', function (event) {
    var target = event.target;
    if (target && target.closest && target.closest('[data-print]')) { window.print(); }
  });

  document.addEventListener('submit', onSubmit);
  document.addEventListener('DOMContentLoaded', function () {
    setOffline(!navigator.onLine);
    setUpDrafts();
    setUpPickAll();
    render().then(replay);
  });
  window.addEventListener('online', function () { setOffline(false); replay(); });
  window.addEventListener('offline', function () { setOffline(true); });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') { replay(); }
  });
  window.setInterval(function () { if (navigator.onLine) { replay(); } }, 20000);

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).then(function (registration) {
      // Background Sync is an extra where the browser has it; the page replays by itself anyway.
      if (registration.sync && user) { registration.sync.register('signoff-outbox').catch(function () {}); }
    }).catch(function () {});
    navigator.serviceWorker.addEventListener('message', function (event) {
      if (event.data === 'replay') { replay(); }
    });
  }
})();
