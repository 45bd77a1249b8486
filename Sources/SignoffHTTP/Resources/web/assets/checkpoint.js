// 卡点核验: checks a signed credential (SO1.…) in the page, offline too, against the township's
// published keys and the revocation list kept in localStorage (and by the service worker).
// The encoding is CredentialEncoding in SignoffCore: version, kind, key id, number, subject,
// scope (length-prefixed UTF-8), issued/valid-from/valid-until (big-endian i64 seconds), then
// the 64-byte Ed25519 signature over everything before it.
(function () {
  'use strict';

  var KEYS_URL = '/.well-known/signoff-keys';
  var LIST_URL = '/credentials/revocations';
  var KEYS_STORE = 'signoff-checkpoint-keys';
  var LIST_STORE = 'signoff-checkpoint-revocations';
  var KINDS = { 1: ['vehicle_pass', '通行证'], 2: ['health_certificate', '健康证'], 3: ['agricultural_pass', '农用车通行证明'] };
  var SAMPLE_PREFIX = '样例-';

  var root = document.getElementById('checkpoint');
  if (!root) { return; }

  function $(id) { return document.getElementById(id); }
  function load(name) {
    try { return JSON.parse(localStorage.getItem(name) || 'null'); } catch (e) { return null; }
  }
  function save(name, value) {
    try { localStorage.setItem(name, JSON.stringify(value)); } catch (e) { /* storage full or off */ }
  }

  // ---- Keys and the revocation list ------------------------------------------------
  function fetchJSON(url) {
    return fetch(url, { credentials: 'same-origin', cache: 'no-store' }).then(function (response) {
      if (!response.ok) { throw new Error('status ' + response.status); }
      return response.json();
    });
  }

  function refresh() {
    if (!navigator.onLine) { showAges(); return Promise.resolve(); }
    var keys = fetchJSON(KEYS_URL).then(function (list) {
      if (list && list.keys) { save(KEYS_STORE, { keys: list.keys, fetchedAt: Date.now() }); }
    });
    var revocations = fetchJSON(LIST_URL).then(function (list) {
      if (list && list.revoked) { save(LIST_STORE, { generatedAt: list.generated_at, revoked: list.revoked, fetchedAt: Date.now() }); }
    });
    return Promise.all([keys.catch(function () {}), revocations.catch(function () {})]).then(showAges, showAges);
  }

  function age(ms) {
    var minutes = Math.max(0, Math.round(ms / 60000));
    if (minutes < 1) { return '刚刚'; }
    if (minutes < 60) { return minutes + '分钟前'; }
    var hours = Math.floor(minutes / 60);
    if (hours < 48) { return hours + '小时前'; }
    return Math.floor(hours / 24) + '天前';
  }

  function showAges() {
    var list = load(LIST_STORE);
    var keys = load(KEYS_STORE);
    var listLine = $('list-age');
    if (list && list.generatedAt) {
      var generated = Date.parse(list.generatedAt);
      listLine.textContent = '撤销名单：' + age(Date.now() - generated) + '更新（生成于 ' + clock(generated / 1000) + '），共 ' +
        list.revoked.length + ' 条' + (navigator.onLine ? '' : '；当前无网络，使用手机上保存的名单');
      listLine.className = 'line' + (Date.now() - generated > 6 * 3600 * 1000 ? ' overdue-text' : ' muted');
    } else {
      listLine.textContent = '撤销名单：尚未下载。请联网打开一次本页。';
      listLine.className = 'line overdue-text';
    }
    $('keys-age').textContent = keys && keys.keys ? '签名密钥 ' + keys.keys.length + ' 把，' + age(Date.now() - keys.fetchedAt) + '下载' :
      '签名密钥尚未下载。请联网打开一次本页。';
  }

  // ---- Decoding ----------------------------------------------------------------------
  function base64url(text) {
    if (!/^[A-Za-z0-9_-]+$/.test(text) || text.length % 4 === 1) { return null; }
    var standard = text.replace(/-/g, '+').replace(/_/g, '/');
    while (standard.length % 4) { standard += '='; }
    try {
      var binary = atob(standard);
      var bytes = new Uint8Array(binary.length);
      for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
      return bytes;
    } catch (e) { return null; }
  }

  function parse(text) {
    text = (text || '').trim();
    if (text.indexOf('SO1.') !== 0 || text.length > 2048) { return null; }
    var bytes = base64url(text.slice(4));
    if (!bytes || bytes.length <= 64) { return null; }
    var payload = bytes.slice(0, bytes.length - 64);
    var signature = bytes.slice(bytes.length - 64);
    var index = 0;
    var decoder = new TextDecoder('utf-8', { fatal: true });
    function byte() { return index < payload.length ? payload[index++] : null; }
    function string() {
      var length = byte();
      if (length === null || index + length > payload.length) { return null; }
      try {
        var value = decoder.decode(payload.slice(index, index + length));
        index += length;
        return value;
      } catch (e) { return null; }
    }
    function seconds() {
      if (index + 8 > payload.length) { return null; }
      var view = new DataView(payload.buffer, payload.byteOffset + index, 8);
      index += 8;
      return Number(view.getBigInt64(0));
    }
    if (byte() !== 1) { return null; }
    var kind = KINDS[byte()];
    var keyID = string(), number = string(), subject = string(), scope = string();
    var issued = seconds(), from = seconds(), until = seconds();
    if (!kind || keyID === null || !keyID || !number || subject === null || scope === null ||
        issued === null || from === null || until === null || index !== payload.length || until < from) { return null; }
    return {
      kind: kind[0], kindName: kind[1], keyID: keyID, number: number, subject: subject, scope: scope,
      issued: issued, from: from, until: until, payload: payload, signature: signature
    };
  }

  function clock(seconds) {
    var date = new Date(seconds * 1000 + 8 * 3600 * 1000);
    function two(n) { return (n < 10 ? '0' : '') + n; }
    return date.getUTCFullYear() + '-' + two(date.getUTCMonth() + 1) + '-' + two(date.getUTCDate()) + ' ' +
      two(date.getUTCHours()) + ':' + two(date.getUTCMinutes());
  }

  // ---- Verifying ---------------------------------------------------------------------
  function verifySignature(credential, key) {
    var raw = base64url(key.public_key);
    if (!raw || raw.length !== 32 || !window.crypto || !crypto.subtle) { return Promise.resolve(false); }
    return crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']).then(function (publicKey) {
      return crypto.subtle.verify({ name: 'Ed25519' }, publicKey, credential.signature, credential.payload);
    }).catch(function () { return false; });
  }

  /// Resolves with { word, kind, detail, credential? }, as CredentialVerifier does in Swift.
  function verify(text) {
    var invalid = { word: '签名无效', kind: 'invalid', detail: '不是本乡签发的凭证，或内容被改动。不予放行。' };
    var credential = parse(text);
    if (!credential) { return Promise.resolve(invalid); }
    var keys = (load(KEYS_STORE) || {}).keys || [];
    var key = keys.filter(function (candidate) { return candidate.kid === credential.keyID; })[0];
    if (!key) {
      invalid.detail = keys.length ? '签名密钥不在本乡公布的密钥中。不予放行。' : '手机上还没有签名密钥，无法核验。请联网打开一次本页。';
      return Promise.resolve(invalid);
    }
    return verifySignature(credential, key).then(function (good) {
      if (!good) { return invalid; }
      var notBefore = Date.parse(key.not_before) / 1000;
      var notAfter = key.not_after ? Date.parse(key.not_after) / 1000 : Infinity;
      if (credential.issued < notBefore || credential.issued > notAfter) {
        invalid.detail = '签发时间不在该密钥的使用期内。不予放行。';
        return invalid;
      }
      var list = (load(LIST_STORE) || {}).revoked || [];
      var revoked = list.some(function (entry) { return entry.kind === credential.kind && entry.number === credential.number; });
      var now = Date.now() / 1000;
      var result = { credential: credential };
      if (revoked) {
        result.word = '已撤销'; result.kind = 'revoked'; result.detail = '已被撤销，不予放行。';
      } else if (now < credential.from) {
        result.word = '未生效'; result.kind = 'expired'; result.detail = '尚未到有效期开始时间。';
      } else if (now > credential.until) {
        result.word = '已过期'; result.kind = 'expired'; result.detail = '已超过有效期。';
      } else {
        result.word = '有效'; result.kind = 'valid'; result.detail = '签名正确，在有效期内，未被撤销。';
      }
      return result;
    });
  }

  function show(result, text) {
    var box = $('verdict');
    box.hidden = false;
    box.className = 'verdict verdict-' + result.kind;
    $('verdict-word').textContent = result.word;
    $('verdict-detail').textContent = result.detail;
    var credential = result.credential;
    $('verdict-facts').hidden = !credential;
    $('verdict-sample').hidden = !(credential && credential.number.indexOf(SAMPLE_PREFIX) === 0);
    if (credential) {
      $('verdict-kind').textContent = credential.kindName;
      $('verdict-number').textContent = credential.number;
      $('verdict-subject').textContent = credential.subject;
      $('verdict-scope').textContent = credential.scope;
      $('verdict-validity').textContent = clock(credential.from) + ' 至 ' + clock(credential.until);
    }
    // The log form takes what was checked: the credential, the plate or holder, the decision.
    $('log-credential').value = credential ? text : '';
    var subject = $('log-subject');
    if (credential && !subject.value) { subject.value = credential.subject; }
    if (result.kind === 'valid') {
      $('decision-release').checked = true;
    } else {
      $('decision-turn-back').checked = true;
      var reason = $('log-reason');
      if (reason.querySelector('option[value="credential_refused"]')) { reason.value = 'credential_refused'; }
    }
    box.scrollIntoView({ block: 'nearest' });
  }

  function check(text) {
    text = (text || '').trim();
    if (/^[A-Za-z2-7]{4}-?[A-Za-z2-7]{4}$/.test(text)) {
      if (!navigator.onLine) {
        show({ word: '无法核验', kind: 'invalid', detail: '核验短码需要联网查询。请扫码或粘贴完整凭证码。' }, '');
        return Promise.resolve();
      }
      return fetch(root.getAttribute('data-lookup') + '?code=' + encodeURIComponent(text), {
        credentials: 'same-origin', headers: { 'Accept': 'application/json' }
      }).then(function (response) {
        return response.json().then(function (answer) {
          if (response.ok && answer.result === 'ok') {
            $('code').value = answer.message;
            return verify(answer.message).then(function (result) { show(result, answer.message); });
          }
          show({ word: '未找到', kind: 'invalid', detail: answer.message || '没有找到这个短码。' }, '');
        });
      }).catch(function () {
        show({ word: '无法核验', kind: 'invalid', detail: '网络中断。请扫码或粘贴完整凭证码。' }, '');
      });
    }
    return verify(text).then(function (result) { show(result, text); });
  }

  // ---- Scanning ----------------------------------------------------------------------
  var stream = null;
  var scanning = false;
  function stopScan() {
    scanning = false;
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    $('scan').hidden = true;
  }
  function startScan() {
    var detector;
    try { detector = new window.BarcodeDetector({ formats: ['qr_code'] }); } catch (e) { return; }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } }).then(function (media) {
      stream = media;
      scanning = true;
      var video = $('scan-video');
      video.srcObject = media;
      $('scan').hidden = false;
      video.play();
      function tick() {
        if (!scanning) { return; }
        detector.detect(video).then(function (codes) {
          var found = codes.filter(function (code) { return code.rawValue && code.rawValue.indexOf('SO1.') === 0; })[0];
          if (found) {
            stopScan();
            $('code').value = found.rawValue;
            check(found.rawValue);
          } else {
            setTimeout(tick, 250);
          }
        }, function () { setTimeout(tick, 500); });
      }
      tick();
    }, function () {
      show({ word: '无法使用相机', kind: 'invalid', detail: '请允许使用相机，或直接输入凭证码。' }, '');
    });
  }

  // ---- Wiring ------------------------------------------------------------------------
  var canVerifyHere = !!(window.crypto && crypto.subtle && window.TextDecoder);
  $('verify-form').addEventListener('submit', function (event) {
    if (!canVerifyHere) { return; }  // the server checks it (the page reloads with its verdict)
    event.preventDefault();
    check($('code').value);
  });
  // A page shown from the phone's cache carries the key of an earlier view: each view gets its own.
  var keyInput = $('log-form').querySelector('input[name=idempotency_key]');
  if (keyInput && window.crypto && crypto.randomUUID) { keyInput.value = 'web-' + crypto.randomUUID(); }
  $('log-form').addEventListener('submit', function () {
    // When the check happened, also when the outbox sends it later.
    $('log-checked-at').value = new Date().toISOString();
  });
  if ('BarcodeDetector' in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    $('scan-start').hidden = false;
    $('scan-start').addEventListener('click', startScan);
    $('scan-stop').addEventListener('click', stopScan);
  }
  window.addEventListener('online', refresh);
  window.addEventListener('offline', showAges);
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'visible') { refresh(); } });
  window.setInterval(showAges, 30000);
  showAges();
  refresh();
})();
