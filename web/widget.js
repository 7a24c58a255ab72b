/*
 * Parley chat widget. Embed with one tag:
 *
 *   <script src="https://parley.example/widget.js" data-parley-key="CHANNEL_KEY"
 *           data-parley-language="fr" async></script>
 *
 * It adds a launcher button and a chat panel (in a Shadow DOM, so the host
 * page's CSS and ours never meet). The API base is the script's own origin
 * unless data-parley-api is given. Pages that want the chat inline (the
 * standalone chat page) load the script without a key and call
 * Parley.mount(element, {key, inline: true}). See docs/web.md.
 *
 * Plain ES2017, no dependencies, nothing fetched but the Parley API.
 */
(function () {
  'use strict';

  var script = document.currentScript ||
    document.querySelector('script[data-parley-key]') ||
    document.querySelector('script[src$="widget.js"]');

  var LANGS = ['en', 'fr', 'es', 'de'];

  var STRINGS = {
    en: {
      title: 'Customer service', launcher: 'Chat with us', minimize: 'Minimize chat',
      log: 'Conversation', inputLabel: 'Your message', placeholder: 'Type your message…',
      send: 'Send', end: 'End chat', you: 'You', bot: 'Assistant', agent: 'Agent',
      system: 'Notice', typing: 'The assistant is typing…',
      handoff: 'A colleague will join this conversation shortly. Please keep this window open.',
      waitingAgent: 'Waiting for an agent', withAgent: 'Talking to an agent',
      handback: 'You are back with the assistant.', closed: 'This conversation has ended.',
      ratePrompt: 'How would you rate this conversation?', rateN: '{n} out of 5',
      comment: 'Comment (optional)', submitRating: 'Send rating', skip: 'Skip',
      thanks: 'Thank you for your feedback!', newChat: 'Start a new chat',
      network: 'Cannot reach the service. Check your connection and try again.',
      unauthorized: 'This chat is not available: the access key was refused.',
      rateLimited: 'Too many messages. Please wait {s} s and try again.',
      unavailable: 'The service is temporarily unavailable. Please try again shortly.',
      tooLong: 'Your message is too long.', notFound: 'This conversation no longer exists.',
      generic: 'Something went wrong ({code}). Please try again.',
      reconnecting: 'Connection lost, reconnecting…', choose: 'Choose an option',
      download: 'Download {name}',
      connecting: 'Connecting…', dismiss: 'Dismiss', retry: 'Retry', pickScore: 'Please choose a score from 1 to 5.'
    },
    fr: {
      title: 'Service client', launcher: 'Discuter avec nous', minimize: 'Réduire la discussion',
      log: 'Conversation', inputLabel: 'Votre message', placeholder: 'Écrivez votre message…',
      send: 'Envoyer', end: 'Terminer la discussion', you: 'Vous', bot: 'Assistant',
      agent: 'Conseiller', system: 'Information', typing: 'L’assistant écrit…',
      handoff: 'Un conseiller va rejoindre la conversation. Merci de garder cette fenêtre ouverte.',
      waitingAgent: 'En attente d’un conseiller', withAgent: 'En ligne avec un conseiller',
      handback: 'Vous êtes de nouveau avec l’assistant.', closed: 'Cette conversation est terminée.',
      ratePrompt: 'Comment évalueriez-vous cette conversation ?', rateN: '{n} sur 5',
      comment: 'Commentaire (facultatif)', submitRating: 'Envoyer la note', skip: 'Passer',
      thanks: 'Merci pour votre avis !', newChat: 'Nouvelle discussion',
      network: 'Impossible de joindre le service. Vérifiez votre connexion et réessayez.',
      unauthorized: 'Cette discussion n’est pas disponible : la clé d’accès a été refusée.',
      rateLimited: 'Trop de messages. Veuillez patienter {s} s puis réessayer.',
      unavailable: 'Le service est momentanément indisponible. Veuillez réessayer dans un instant.',
      tooLong: 'Votre message est trop long.', notFound: 'Cette conversation n’existe plus.',
      generic: 'Une erreur est survenue ({code}). Veuillez réessayer.',
      reconnecting: 'Connexion perdue, reconnexion…', choose: 'Choisissez une option',
      download: 'Télécharger {name}',
      connecting: 'Connexion…', dismiss: 'Fermer', retry: 'Réessayer', pickScore: 'Veuillez choisir une note de 1 à 5.'
    },
    es: {
      title: 'Atención al cliente', launcher: 'Chatee con nosotros', minimize: 'Minimizar chat',
      log: 'Conversación', inputLabel: 'Su mensaje', placeholder: 'Escriba su mensaje…',
      send: 'Enviar', end: 'Finalizar chat', you: 'Usted', bot: 'Asistente', agent: 'Agente',
      system: 'Aviso', typing: 'El asistente está escribiendo…',
      handoff: 'Un agente se unirá a la conversación en breve. Mantenga esta ventana abierta.',
      waitingAgent: 'Esperando a un agente', withAgent: 'Hablando con un agente',
      handback: 'Vuelve a hablar con el asistente.', closed: 'Esta conversación ha finalizado.',
      ratePrompt: '¿Cómo valoraría esta conversación?', rateN: '{n} de 5',
      comment: 'Comentario (opcional)', submitRating: 'Enviar valoración', skip: 'Omitir',
      thanks: '¡Gracias por su opinión!', newChat: 'Nuevo chat',
      network: 'No se puede conectar con el servicio. Compruebe su conexión e inténtelo de nuevo.',
      unauthorized: 'Este chat no está disponible: la clave de acceso fue rechazada.',
      rateLimited: 'Demasiados mensajes. Espere {s} s e inténtelo de nuevo.',
      unavailable: 'El servicio no está disponible en este momento. Inténtelo de nuevo en breve.',
      tooLong: 'Su mensaje es demasiado largo.', notFound: 'Esta conversación ya no existe.',
      generic: 'Se ha producido un error ({code}). Inténtelo de nuevo.',
      reconnecting: 'Conexión perdida, reconectando…', choose: 'Elija una opción',
      download: 'Descargar {name}',
      connecting: 'Conectando…', dismiss: 'Cerrar', retry: 'Reintentar', pickScore: 'Elija una puntuación de 1 a 5.'
    },
    de: {
      title: 'Kundenservice', launcher: 'Mit uns chatten', minimize: 'Chat minimieren',
      log: 'Unterhaltung', inputLabel: 'Ihre Nachricht', placeholder: 'Schreiben Sie Ihre Nachricht…',
      send: 'Senden', end: 'Chat beenden', you: 'Sie', bot: 'Assistent', agent: 'Mitarbeiter',
      system: 'Hinweis', typing: 'Der Assistent schreibt…',
      handoff: 'Ein Mitarbeiter übernimmt gleich das Gespräch. Bitte lassen Sie dieses Fenster geöffnet.',
      waitingAgent: 'Warten auf einen Mitarbeiter', withAgent: 'Im Gespräch mit einem Mitarbeiter',
      handback: 'Sie sind wieder beim Assistenten.', closed: 'Dieses Gespräch ist beendet.',
      ratePrompt: 'Wie bewerten Sie dieses Gespräch?', rateN: '{n} von 5',
      comment: 'Kommentar (optional)', submitRating: 'Bewertung senden', skip: 'Überspringen',
      thanks: 'Vielen Dank für Ihr Feedback!', newChat: 'Neuer Chat',
      network: 'Der Dienst ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
      unauthorized: 'Dieser Chat ist nicht verfügbar: Der Zugangsschlüssel wurde abgelehnt.',
      rateLimited: 'Zu viele Nachrichten. Bitte warten Sie {s} s und versuchen Sie es erneut.',
      unavailable: 'Der Dienst ist vorübergehend nicht verfügbar. Bitte versuchen Sie es gleich noch einmal.',
      tooLong: 'Ihre Nachricht ist zu lang.', notFound: 'Dieses Gespräch existiert nicht mehr.',
      generic: 'Ein Fehler ist aufgetreten ({code}). Bitte versuchen Sie es erneut.',
      reconnecting: 'Verbindung unterbrochen, neuer Versuch…', choose: 'Wählen Sie eine Option',
      download: '{name} herunterladen',
      connecting: 'Verbindung wird hergestellt…', dismiss: 'Schließen', retry: 'Erneut versuchen',
      pickScore: 'Bitte wählen Sie eine Bewertung von 1 bis 5.'
    }
  };

  function pickLanguage(tag) {
    var l = String(tag || '').toLowerCase().slice(0, 2);
    return LANGS.indexOf(l) >= 0 ? l : null;
  }

  function fmt(s, vars) {
    return s.replace(/\{(\w+)\}/g, function (_, k) { return vars && k in vars ? vars[k] : ''; });
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'text') e.textContent = v;
        else if (k === 'className') e.className = v;
        else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? '' : v);
      });
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  var CSS = [
    ':host{all:initial}',
    /* The host page's CSS still reaches the host element and what inherits
       from it: set inherited properties again on our own wrapper. */
    '.floating,.inline{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1c2430;text-align:left;letter-spacing:normal;word-spacing:normal;text-transform:none;text-indent:0;font-style:normal;visibility:visible;direction:ltr}',
    '*{box-sizing:border-box}',
    '[hidden]{display:none!important}',
    '.sr{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}',
    'button,input,textarea{font:inherit;color:inherit}',
    'button{cursor:pointer}',
    ':focus-visible{outline:3px solid #f5a623;outline-offset:2px}',
    '.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:12px 20px;background:#1f5fbf;color:#fff;font-weight:600;box-shadow:0 4px 14px rgba(0,0,0,.25)}',
    '.launcher:hover{background:#184c99}',
    '.panel{display:flex;flex-direction:column;background:#fff;min-height:0}',
    '.floating .panel{position:fixed;right:20px;bottom:20px;z-index:2147483001;width:380px;height:min(600px,calc(100vh - 40px));border-radius:12px;box-shadow:0 10px 40px rgba(0,0,0,.3);overflow:hidden}',
    '.inline .panel{height:100%;width:100%;border:1px solid #d5dbe3;border-radius:12px;overflow:hidden}',
    '.panel[hidden],.launcher[hidden]{display:none}',
    'header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#1f5fbf;color:#fff}',
    'header h2{margin:0;font-size:16px;flex:1;min-width:0}',
    'header .state{display:block;font-size:12px;font-weight:400;opacity:.9}',
    'header button{background:transparent;color:#fff;border:1px solid rgba(255,255,255,.7);border-radius:6px;padding:5px 9px;font-size:13px}',
    'header button:hover{background:rgba(255,255,255,.15)}',
    'header button[disabled]{opacity:.5;cursor:default}',
    '.alert{margin:8px 12px 0;padding:8px 10px;border-radius:8px;background:#fdecea;color:#8a1c12;border:1px solid #f5c2bc;display:flex;gap:8px;align-items:flex-start}',
    '.alert[hidden]{display:none}',
    '.alert p{margin:0;flex:1}',
    '.alert button{border:0;background:transparent;color:#8a1c12;text-decoration:underline;padding:0}',
    '.info{margin:6px 12px 0;font-size:13px;color:#555}',
    '.info:empty{display:none}',
    '.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f8fb;min-height:0}',
    '.msg{max-width:85%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;word-wrap:break-word;overflow-wrap:anywhere}',
    '.msg .who{display:block;font-size:11px;font-weight:600;opacity:.75;margin-bottom:2px}',
    '.customer{align-self:flex-end;background:#1f5fbf;color:#fff;border-bottom-right-radius:4px}',
    '.customer.pending{opacity:.7}',
    '.bot{align-self:flex-start;background:#fff;border:1px solid #dde3ea;border-bottom-left-radius:4px}',
    '.agent{align-self:flex-start;background:#e7f6ec;border:1px solid #9fd8b0;border-bottom-left-radius:4px}',
    '.notice{align-self:center;max-width:95%;font-size:13px;color:#44505e;background:#fff7e0;border:1px solid #f0d98c;border-radius:8px;padding:6px 10px;text-align:center}',
    '.file{display:inline-block;margin-top:4px;color:#1f5fbf;font-weight:600}',
    '.choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}',
    '.choices button{border:1px solid #1f5fbf;color:#1f5fbf;background:#fff;border-radius:16px;padding:5px 12px}',
    '.choices button:hover{background:#eaf1fb}',
    '.choices button[disabled]{opacity:.55;cursor:default}',
    '.typing{padding:0 12px 6px;font-size:13px;color:#555;display:flex;align-items:center;gap:6px;background:#f6f8fb}',
    '.typing[hidden]{display:none}',
    '.dots span{display:inline-block;width:6px;height:6px;margin-right:3px;border-radius:50%;background:#8a96a3;animation:pb 1.2s infinite ease-in-out}',
    '.dots span:nth-child(2){animation-delay:.2s}.dots span:nth-child(3){animation-delay:.4s}',
    '@keyframes pb{0%,80%,100%{opacity:.3}40%{opacity:1}}',
    '@media (prefers-reduced-motion:reduce){.dots span{animation:none}}',
    'form.composer{display:flex;gap:8px;padding:10px 12px;border-top:1px solid #e2e7ee;background:#fff}',
    'form.composer textarea{flex:1;min-width:0;resize:none;border:1px solid #b8c2cf;border-radius:8px;padding:8px 10px;height:42px;max-height:120px}',
    'form.composer button,.rating button.primary{border:0;border-radius:8px;padding:8px 16px;background:#1f5fbf;color:#fff;font-weight:600}',
    'form.composer button[disabled],.rating button[disabled]{opacity:.55;cursor:default}',
    '.rating{padding:12px;border-top:1px solid #e2e7ee;background:#fff}',
    '.rating fieldset{border:0;margin:0;padding:0}',
    '.rating legend{font-weight:600;margin-bottom:8px}',
    '.stars{display:flex;gap:6px;flex-wrap:wrap}',
    '.stars label{display:inline-flex}',
    '.stars input{position:absolute;opacity:0;width:1px;height:1px}',
    '.stars span{display:inline-block;min-width:44px;text-align:center;padding:8px 0;border:1px solid #b8c2cf;border-radius:8px;background:#fff}',
    '.stars input:checked+span{background:#1f5fbf;color:#fff;border-color:#1f5fbf}',
    '.stars input:focus-visible+span{outline:3px solid #f5a623;outline-offset:2px}',
    '.rating label.c{display:block;margin:10px 0 4px;font-size:13px}',
    '.rating textarea{width:100%;border:1px solid #b8c2cf;border-radius:8px;padding:6px 8px;height:56px;resize:vertical}',
    '.rating .row{display:flex;gap:8px;margin-top:8px;align-items:center}',
    '.rating button.secondary{border:1px solid #b8c2cf;background:#fff;border-radius:8px;padding:8px 14px}',
    '.rating p{margin:0 0 8px}',
    '@media (max-width:480px){.floating .panel{right:0;bottom:0;width:100vw;height:100%;border-radius:0}.launcher{right:12px;bottom:12px}}'
  ].join('\n');

  /* ---------- the chat ---------- */

  function Chat(host, opts) {
    this.opts = opts;
    this.key = opts.key;
    this.api = String(opts.api || location.origin).replace(/\/+$/, '');
    this.inline = !!opts.inline;
    this.lang = pickLanguage(opts.language) || pickLanguage(navigator.language) || 'en';
    this.storeKey = 'parley.conversation:' + this.api + ':' + String(this.key).slice(0, 8);
    this.conv = null;          // conversation id
    this.state = null;         // active | awaiting_confirmation | handed_off | closed
    this.phase = 'chat';       // chat | rating | done
    this.seen = {};            // seq -> true, turns already on screen
    this.lastSeq = 0;
    this.inFlight = 0;         // POSTs of messages under way
    this.pendingCustomer = []; // optimistic customer bubbles waiting for their seq
    this.botEcho = [];         // reply texts the POST showed, still expected on the stream
    this.earlyBot = [];        // bot stream events that came before their POST answered
    this.streamAbort = null;
    this.blockedUntil = 0;
    this.started = false;
    this.build(host);
  }

  Chat.prototype.t = function (k, vars) {
    return fmt((STRINGS[this.lang] || STRINGS.en)[k] || STRINGS.en[k] || k, vars);
  };

  Chat.prototype.build = function (host) {
    var self = this;
    var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
    this.root = root;
    root.appendChild(el('style', { text: CSS }));
    var wrap = el('div', { className: this.inline ? 'inline' : 'floating' });
    wrap.style.height = '100%';
    this.wrap = wrap;
    root.appendChild(wrap);

    if (!this.inline) {
      this.launcher = el('button', {
        className: 'launcher', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'parley-panel',
        onclick: function () { self.open(); }
      });
      wrap.appendChild(this.launcher);
    }

    this.titleEl = el('span');
    this.stateEl = el('span', { className: 'state' });
    this.endBtn = el('button', { type: 'button', className: 'end', onclick: function () { self.endChat(); } });
    var h2 = el('h2', { id: 'parley-title' }, [this.titleEl, this.stateEl]);
    var headerKids = [h2, this.endBtn];
    if (!this.inline) {
      this.minBtn = el('button', { type: 'button', className: 'min', onclick: function () { self.close(); } });
      this.minBtn.textContent = '–';
      headerKids.push(this.minBtn);
    }
    this.alertText = el('p');
    this.alertBtn = el('button', { type: 'button', onclick: function () { self.clearError(); } });
    this.alertEl = el('div', { className: 'alert', role: 'alert', hidden: true }, [this.alertText, this.alertBtn]);
    this.infoEl = el('div', { className: 'info', role: 'status', 'aria-live': 'polite' });
    this.logEl = el('div', { className: 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0' });
    this.typingText = el('span');
    this.typingEl = el('div', { className: 'typing', hidden: true },
      [el('span', { className: 'dots', 'aria-hidden': 'true' }, [el('span'), el('span'), el('span')]), this.typingText]);

    this.input = el('textarea', { id: 'parley-input', rows: '1', maxlength: '4096', autocomplete: 'off' });
    this.inputLabel = el('label', { for: 'parley-input', className: 'sr' });
    this.sendBtn = el('button', { type: 'submit', className: 'send' });
    this.form = el('form', { className: 'composer', onsubmit: function (e) { e.preventDefault(); self.sendTyped(); } },
      [this.inputLabel, this.input, this.sendBtn]);
    this.input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); self.sendTyped(); }
    });
    this.ratingEl = el('div', { className: 'rating', hidden: true });

    this.panel = el('section', {
      className: 'panel', id: 'parley-panel', 'aria-labelledby': 'parley-title',
      role: this.inline ? 'region' : 'dialog', hidden: !this.inline
    }, [el('header', null, headerKids), this.alertEl, this.infoEl, this.logEl, this.typingEl, this.form, this.ratingEl]);
    if (!this.inline) {
      this.panel.addEventListener('keydown', function (e) {
        if (e.key === 'Escape') { e.preventDefault(); self.close(); }
      });
    }
    wrap.appendChild(this.panel);
    window.addEventListener('resize', function () { self.scroll(); });
    this.applyStrings();
  };

  Chat.prototype.applyStrings = function () {
    this.panel.setAttribute('lang', this.lang);
    if (this.launcher) { this.launcher.textContent = this.t('launcher'); this.launcher.setAttribute('lang', this.lang); }
    if (this.minBtn) { this.minBtn.setAttribute('aria-label', this.t('minimize')); this.minBtn.title = this.t('minimize'); }
    this.titleEl.textContent = this.t('title');
    this.endBtn.textContent = this.t('end');
    this.alertBtn.textContent = this.t('dismiss');
    this.logEl.setAttribute('aria-label', this.t('log'));
    this.typingText.textContent = this.t('typing');
    this.inputLabel.textContent = this.t('inputLabel');
    this.input.placeholder = this.t('placeholder');
    this.sendBtn.textContent = this.t('send');
    this.renderState();
    if (this.phase !== 'chat') this.renderRating();
  };

  Chat.prototype.setLanguage = function (tag) {
    var l = pickLanguage(tag);
    if (l && l !== this.lang) { this.lang = l; this.applyStrings(); if (this.conv) this.save(); }
  };

  Chat.prototype.renderState = function () {
    var s = '';
    if (this.state === 'handed_off') s = this.agentSpoke ? this.t('withAgent') : this.t('waitingAgent');
    else if (this.state === 'closed') s = this.t('closed');
    this.stateEl.textContent = s;
    this.endBtn.disabled = !this.conv || this.state === 'closed';
    var canSend = !!this.conv && this.state !== 'closed' && this.phase === 'chat';
    this.input.disabled = !canSend;
    this.sendBtn.disabled = !canSend || Date.now() < this.blockedUntil;
    this.panel.setAttribute('data-state', this.conv ? (this.state || 'active') : 'none');
  };

  Chat.prototype.open = function () {
    this.panel.hidden = false;
    if (this.launcher) { this.launcher.hidden = true; this.launcher.setAttribute('aria-expanded', 'true'); }
    this.start();
    var self = this;
    setTimeout(function () { (self.phase === 'chat' ? self.input : self.ratingEl.querySelector('input,button') || self.input).focus(); }, 0);
  };

  Chat.prototype.close = function () {
    if (this.inline) return;
    this.panel.hidden = true;
    this.launcher.hidden = false;
    this.launcher.setAttribute('aria-expanded', 'false');
    this.launcher.focus();
  };

  /* ---------- errors ---------- */

  Chat.prototype.showError = function (msg) {
    this.alertText.textContent = msg;
    this.alertEl.hidden = false;
  };
  Chat.prototype.clearError = function () { this.alertEl.hidden = true; this.alertText.textContent = ''; };

  Chat.prototype.describe = function (err) {
    if (!err || err.status === undefined) return this.t('network');
    switch (err.status) {
      case 401: case 403: return this.t('unauthorized');
      case 404: return this.t('notFound');
      case 409: return this.t('closed');
      case 413: return this.t('tooLong');
      case 429: return this.t('rateLimited', { s: err.retryAfter || 1 });
      case 503: return this.t('unavailable');
      default: return this.t('generic', { code: (err.code || ('HTTP ' + err.status)) });
    }
  };

  Chat.prototype.fail = function (err) {
    this.showError(this.describe(err));
    if (err && err.status === 429) {
      var self = this, secs = err.retryAfter || 1;
      this.blockedUntil = Date.now() + secs * 1000;
      this.sendBtn.disabled = true;
      setTimeout(function () { self.renderState(); }, secs * 1000 + 50);
    }
  };

  /* ---------- HTTP ---------- */

  Chat.prototype.request = function (method, path, body) {
    var headers = { Authorization: 'Bearer ' + this.key, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(this.api + path, {
      method: method, headers: headers, mode: 'cors', credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (res) {
      return res.text().then(function (txt) {
        var data = null;
        try { data = txt ? JSON.parse(txt) : null; } catch (e) { data = null; }
        if (res.ok) return data || {};
        var e = data && data.error ? data.error : {};
        var ra = parseInt(res.headers.get('Retry-After') || '', 10);
        throw { status: res.status, code: e.code, message: e.message, retryAfter: isNaN(ra) ? null : ra };
      });
    }, function () {
      throw { network: true };
    });
  };

  /* ---------- rendering ---------- */

  Chat.prototype.scroll = function () { this.logEl.scrollTop = this.logEl.scrollHeight; };

  Chat.prototype.bubble = function (role, text, seq) {
    var whoKey = { customer: 'you', bot: 'bot', agent: 'agent', system: 'system' }[role] || 'bot';
    var b = el('div', { className: 'msg ' + (role === 'system' ? 'notice' : role), 'data-role': role },
      [el('span', { className: 'who', text: this.t(whoKey) }), el('span', { className: 'text', text: text })]);
    if (seq) { b.setAttribute('data-seq', String(seq)); this.markSeen(seq); }
    this.logEl.appendChild(b);
    this.scroll();
    return b;
  };

  Chat.prototype.notice = function (text) {
    var n = el('div', { className: 'msg notice', 'data-role': 'notice', text: text });
    this.logEl.appendChild(n);
    this.scroll();
  };

  Chat.prototype.markSeen = function (seq) {
    this.seen[seq] = true;
    if (seq > this.lastSeq) this.lastSeq = seq;
  };

  Chat.prototype.disableChoices = function () {
    var bs = this.logEl.querySelectorAll('.choices button');
    for (var i = 0; i < bs.length; i++) bs[i].disabled = true;
  };

  Chat.prototype.renderReplies = function (replies, role, seq) {
    var self = this;
    (replies || []).forEach(function (r, i) {
      if (r.type === 'file') {
        self.fileLink(r);
        return;
      }
      var b = self.bubble(role || 'bot', r.text || '', i === 0 ? seq : null);
      if (r.type === 'choices' && r.choices && r.choices.length) {
        var group = el('div', { className: 'choices', role: 'group', 'aria-label': self.t('choose') });
        r.choices.forEach(function (c) {
          group.appendChild(el('button', {
            type: 'button', text: c.label,
            onclick: function () { self.send(c.value || c.label, c.label); }
          }));
        });
        b.appendChild(group);
      } else if (r.type === 'handoff') {
        self.notice(self.t('handoff'));
      }
    });
  };

  // A file the bot hands over (the customer's data export): a download
  // link made in the page, so the document never goes through a URL.
  Chat.prototype.fileLink = function (r) {
    var body = typeof r.content === 'string' ? r.content : JSON.stringify(r.content, null, 2);
    var url = URL.createObjectURL(new Blob([body], { type: r.media_type || 'application/json' }));
    this.bubble('bot', '').appendChild(el('a', {
      href: url, download: r.name || 'file.json', className: 'file',
      text: this.t('download', { name: r.name || '' })
    }));
  };

  Chat.prototype.setState = function (state) {
    if (!state) return;
    var prev = this.state;
    this.state = state;
    if (prev === 'handed_off' && state === 'active') this.notice(this.t('handback'));
    if (state !== 'handed_off') this.agentSpoke = false;
    this.renderState();
    if (state === 'closed' && prev !== 'closed' && this.phase === 'chat') this.toRating();
  };

  Chat.prototype.setBusy = function (busy) {
    this.typingEl.hidden = !busy;
  };

  /* ---------- conversation lifecycle ---------- */

  Chat.prototype.save = function () {
    try {
      if (this.conv) sessionStorage.setItem(this.storeKey, JSON.stringify({ id: this.conv, phase: this.phase, lang: this.lang }));
      else sessionStorage.removeItem(this.storeKey);
    } catch (e) { /* storage may be disabled */ }
  };

  Chat.prototype.start = function () {
    if (this.started) return;
    this.started = true;
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(this.storeKey) || 'null'); } catch (e) { saved = null; }
    if (saved && saved.id) this.resume(saved);
    else this.create();
  };

  Chat.prototype.create = function () {
    var self = this;
    var body = { channel: 'web' };
    if (pickLanguage(this.opts.language)) body.language = pickLanguage(this.opts.language);
    this.setBusy(true);
    this.infoEl.textContent = this.t('connecting');
    return this.request('POST', '/v1/conversations', body).then(function (res) {
      self.setBusy(false);
      self.infoEl.textContent = '';
      self.clearError();
      self.conv = res.conversation_id;
      self.phase = 'chat';
      self.save();
      self.setState('active');
      // The opening replies are seq 1..n on the stream: expect them there.
      self.renderReplies(res.messages, 'bot');
      self.expectBot(res.messages);
      self.openStream();
      if (!self.panel.hidden && !self.root.activeElement) self.input.focus();
    }, function (err) {
      self.setBusy(false);
      self.infoEl.textContent = '';
      self.started = false;
      self.fail(err);
      self.offerRetry(function () { self.start(); });
    });
  };

  Chat.prototype.offerRetry = function (fn) {
    var self = this;
    var old = this.alertEl.querySelector('.retry');
    if (old) old.remove();
    var b = el('button', {
      type: 'button', className: 'retry', text: this.t('retry'),
      onclick: function () { b.remove(); self.clearError(); fn(); }
    });
    this.alertEl.insertBefore(b, this.alertBtn);
  };

  Chat.prototype.resume = function (saved) {
    var self = this;
    this.conv = saved.id;
    this.phase = saved.phase || 'chat';
    this.setBusy(true);
    return this.request('GET', '/v1/conversations/' + encodeURIComponent(saved.id)).then(function (tr) {
      self.setBusy(false);
      // The language of the latest turn this tab saw, else the conversation's.
      self.setLanguage(saved.lang || tr.language);
      (tr.turns || []).forEach(function (turn) { self.renderTurn(turn); });
      if (tr.state === 'handed_off' && (tr.turns || []).some(function (t) { return t.role === 'agent'; })) self.agentSpoke = true;
      if (tr.rating) self.phase = 'done';
      self.state = null;
      self.setState(tr.state);
      if (tr.state === 'closed') { if (self.phase === 'chat') self.toRating(); else self.renderRating(); }
      else self.openStream();
    }, function (err) {
      self.setBusy(false);
      if (err && (err.status === 404 || err.status === 403)) {
        self.conv = null; self.save(); self.logEl.textContent = ''; self.seen = {}; self.lastSeq = 0;
        return self.create();
      }
      self.started = false;
      self.fail(err);
      self.offerRetry(function () { self.start(); });
    });
  };

  // A turn of the transcript (GET /v1/conversations/{id}).
  Chat.prototype.renderTurn = function (turn) {
    if (turn.seq && this.seen[turn.seq]) return;
    if (turn.role === 'system') { this.bubble('system', turn.text || '', turn.seq); return; }
    this.bubble(turn.role, turn.text || '', turn.seq);
  };

  Chat.prototype.sendTyped = function () {
    var text = this.input.value.trim();
    if (!text) return;
    if (this.send(text, text)) { this.input.value = ''; }
  };

  Chat.prototype.send = function (text, shown) {
    var self = this;
    if (!this.conv || this.state === 'closed' || this.phase !== 'chat') return false;
    if (Date.now() < this.blockedUntil) { this.fail({ status: 429, retryAfter: Math.ceil((this.blockedUntil - Date.now()) / 1000) }); return false; }
    this.clearError();
    this.disableChoices();
    var b = this.bubble('customer', shown);
    b.classList.add('pending');
    this.pendingCustomer.push(b);
    this.inFlight++;
    this.setBusy(this.state !== 'handed_off');
    this.request('POST', '/v1/conversations/' + encodeURIComponent(this.conv) + '/messages', { text: text }).then(function (turn) {
      self.inFlight--;
      b.classList.remove('pending');
      self.setBusy(self.inFlight > 0 && self.state !== 'handed_off');
      self.setLanguage(turn.language);
      var msgs = turn.messages || [];
      if (!self.consumeEarly(msgs)) {
        self.renderReplies(msgs, 'bot');
        self.expectBot(msgs);
      }
      self.flushEarly();
      self.setState(turn.state);
    }, function (err) {
      self.inFlight--;
      self.setBusy(self.inFlight > 0);
      var i = self.pendingCustomer.indexOf(b);
      if (i >= 0) self.pendingCustomer.splice(i, 1);
      if (!b.hasAttribute('data-seq')) b.remove();
      if (text === shown && !self.input.value) self.input.value = text;
      self.flushEarly();
      self.fail(err);
      if (err && err.status === 409) self.setState('closed');
      if (err && (err.status === 404)) { self.conv = null; self.save(); }
    });
    return true;
  };

  /* ---------- de-duplication of the stream against the POST answers ---------- */

  function texts(messages) {
    return (messages || []).map(function (m) { return String(m.text || ''); });
  }

  Chat.prototype.expectBot = function (messages) {
    this.botEcho = this.botEcho.concat(texts(messages));
  };

  // A bot event of the stream: does it repeat what a POST answer showed?
  // (Texts the stream never repeats are skipped over and dropped.)
  Chat.prototype.matchEcho = function (messages) {
    var t = texts(messages);
    if (!t.length) return true;
    for (var i = 0; i + t.length <= this.botEcho.length; i++) {
      var j = 0;
      while (j < t.length && this.botEcho[i + j] === t[j]) j++;
      if (j === t.length) { this.botEcho = this.botEcho.slice(i + t.length); return true; }
    }
    return false;
  };

  // The POST answered with `messages`; were they already on the stream?
  Chat.prototype.consumeEarly = function (messages) {
    var want = texts(messages).join('\u0000');
    var got = [];
    for (var i = 0; i < this.earlyBot.length; i++) {
      got = got.concat(texts(this.earlyBot[i].messages));
      if (got.join('\u0000') === want) {
        var events = this.earlyBot.splice(0, i + 1);
        var self = this;
        this.renderReplies(messages, 'bot', events[0].seq);
        events.forEach(function (ev) { self.markSeen(ev.seq); });
        return true;
      }
    }
    return false;
  };

  Chat.prototype.flushEarly = function () {
    if (this.inFlight > 0) return;
    var evs = this.earlyBot;
    this.earlyBot = [];
    var self = this;
    evs.forEach(function (ev) { if (!self.seen[ev.seq]) self.renderReplies(ev.messages, 'bot', ev.seq); });
  };

  Chat.prototype.onTurnEvent = function (ev) {
    var seq = ev.seq;
    if (seq && this.seen[seq]) return;
    if (ev.role === 'customer') {
      var b = this.pendingCustomer.shift();
      if (b) { b.setAttribute('data-seq', String(seq)); this.markSeen(seq); }
      else this.bubble('customer', ev.text || '', seq);
    } else if (ev.role === 'bot') {
      if (this.botEcho.length && this.matchEcho(ev.messages)) this.markSeen(seq);
      else if (this.inFlight > 0) { this.earlyBot.push(ev); seq = 0; }  // shown when its POST answers
      else this.renderReplies(ev.messages, 'bot', seq);
    } else if (ev.role === 'agent') {
      this.agentSpoke = true;
      var ms = ev.messages || (ev.text ? [{ type: 'text', text: ev.text }] : []);
      this.renderReplies(ms, 'agent', seq);
      if (!ms.length) this.markSeen(seq);
    } else {
      var m = ev.messages ? texts(ev.messages).join('\n') : (ev.text || '');
      if (m) this.bubble('system', m, seq); else this.markSeen(seq);
    }
    if (seq) this.markSeen(seq);
    if (ev.state) this.setState(ev.state);
    else this.renderState();
  };

  /* ---------- the event stream (fetch + ReadableStream, Last-Event-ID) ---------- */

  Chat.prototype.openStream = function () {
    if (this.streamAbort || !this.conv) return;
    var self = this;
    var ctrl = typeof AbortController !== 'undefined' ? new AbortController() : null;
    this.streamAbort = ctrl || { abort: function () {} };
    var conv = this.conv;
    var failures = 0;

    function stopped() { return self.streamAbort !== (ctrl || self.streamAbort) || self.conv !== conv || self.state === 'closed'; }

    function once() {
      var headers = { Authorization: 'Bearer ' + self.key, Accept: 'text/event-stream' };
      if (self.lastSeq) headers['Last-Event-ID'] = String(self.lastSeq);
      return fetch(self.api + '/v1/conversations/' + encodeURIComponent(conv) + '/stream', {
        headers: headers, mode: 'cors', credentials: 'omit', cache: 'no-store', signal: ctrl ? ctrl.signal : undefined
      }).then(function (res) {
        if (!res.ok) {
          var ra = parseInt(res.headers.get('Retry-After') || '', 10);
          throw { status: res.status, retryAfter: isNaN(ra) ? null : ra };
        }
        failures = 0;
        self.infoEl.textContent = '';
        var reader = res.body.getReader();
        var dec = new TextDecoder();
        var buf = '';
        function pump() {
          return reader.read().then(function (r) {
            if (r.done) return;
            buf += dec.decode(r.value, { stream: true }).replace(/\r\n?/g, '\n');
            var i;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              var block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              self.onSSE(block);
            }
            if (stopped()) { reader.cancel().catch(function () { /* aborted */ }); return; }
            return pump();
          });
        }
        return pump();
      });
    }

    function loop() {
      if (stopped()) return;
      once().then(function () {
        if (stopped()) return;
        return sleep(500).then(loop);
      }, function (err) {
        if (stopped() || (err && err.name === 'AbortError')) return;
        failures++;
        if (err && (err.status === 401 || err.status === 403 || err.status === 404)) {
          self.fail(err);
          self.streamAbort = null;
          return;
        }
        if (err && err.status === 409) { self.setState('closed'); return; }
        self.infoEl.textContent = self.t('reconnecting');
        var wait = err && err.retryAfter ? err.retryAfter * 1000 : Math.min(15000, 500 * Math.pow(2, failures));
        return sleep(wait).then(loop);
      });
    }
    loop();
  };

  Chat.prototype.stopStream = function () {
    if (this.streamAbort) { try { this.streamAbort.abort(); } catch (e) { /* ignore */ } }
    this.streamAbort = null;
  };

  Chat.prototype.onSSE = function (block) {
    var event = 'message', data = [], id = null;
    block.split('\n').forEach(function (line) {
      if (!line || line.charAt(0) === ':') return;
      var c = line.indexOf(':');
      var field = c < 0 ? line : line.slice(0, c);
      var value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    });
    if (!data.length) return;
    var payload;
    try { payload = JSON.parse(data.join('\n')); } catch (e) { return; }
    if (event === 'turn') {
      if (payload.seq === undefined && id) payload.seq = parseInt(id, 10);
      this.onTurnEvent(payload);
    } else if (event === 'state') {
      this.setState(payload.state);
    }
  };

  /* ---------- end of chat and rating ---------- */

  Chat.prototype.endChat = function () {
    var self = this;
    if (!this.conv || this.state === 'closed') return;
    this.endBtn.disabled = true;
    this.request('POST', '/v1/conversations/' + encodeURIComponent(this.conv) + '/close').then(function () {
      self.setState('closed');
    }, function (err) {
      if (err && err.status === 409) { self.setState('closed'); return; }
      self.endBtn.disabled = false;
      self.fail(err);
    });
  };

  Chat.prototype.toRating = function () {
    this.stopStream();
    this.setBusy(false);
    if (this.phase === 'chat') this.phase = 'rating';
    this.save();
    this.renderRating();
    var first = this.ratingEl.querySelector('input,button');
    if (first && (this.inline || !this.panel.hidden)) first.focus();
  };

  Chat.prototype.renderRating = function () {
    var self = this;
    this.form.hidden = true;
    this.ratingEl.hidden = false;
    this.ratingEl.textContent = '';
    this.ratingEl.setAttribute('lang', this.lang);
    var newChat = el('button', { type: 'button', className: 'secondary newchat', text: this.t('newChat'), onclick: function () { self.restart(); } });
    if (this.phase === 'done') {
      this.ratingEl.appendChild(el('p', { role: 'status', text: this.ratedNow ? this.t('thanks') : this.t('closed') }));
      this.ratingEl.appendChild(el('div', { className: 'row' }, [newChat]));
      return;
    }
    var stars = el('div', { className: 'stars' });
    for (var n = 1; n <= 5; n++) {
      stars.appendChild(el('label', null, [
        el('input', { type: 'radio', name: 'parley-score', value: String(n), 'aria-label': this.t('rateN', { n: n }) }),
        el('span', { 'aria-hidden': 'true', text: '★ ' + n })
      ]));
    }
    var comment = el('textarea', { id: 'parley-comment', maxlength: '1000' });
    var submit = el('button', { type: 'submit', className: 'primary', text: this.t('submitRating') });
    var skip = el('button', { type: 'button', className: 'secondary', text: this.t('skip'), onclick: function () { self.phase = 'done'; self.save(); self.renderRating(); } });
    var form = el('form', {
      onsubmit: function (e) {
        e.preventDefault();
        var picked = form.querySelector('input[name="parley-score"]:checked');
        if (!picked) { self.showError(self.t('pickScore')); return; }
        var body = { score: parseInt(picked.value, 10) };
        if (comment.value.trim()) body.comment = comment.value.trim();
        submit.disabled = true;
        self.request('POST', '/v1/conversations/' + encodeURIComponent(self.conv) + '/rating', body).then(function () {
          self.clearError();
          self.phase = 'done'; self.ratedNow = true; self.save(); self.renderRating();
          var nb = self.ratingEl.querySelector('button'); if (nb) nb.focus();
        }, function (err) {
          submit.disabled = false;
          self.fail(err);
        });
      }
    }, [
      el('fieldset', null, [el('legend', { text: this.t('ratePrompt') }), stars]),
      el('label', { className: 'c', for: 'parley-comment', text: this.t('comment') }), comment,
      el('div', { className: 'row' }, [submit, skip])
    ]);
    this.ratingEl.appendChild(el('p', { text: this.t('closed') }));
    this.ratingEl.appendChild(form);
  };

  Chat.prototype.restart = function () {
    this.stopStream();
    this.conv = null; this.state = null; this.phase = 'chat'; this.seen = {}; this.lastSeq = 0;
    this.pendingCustomer = []; this.botEcho = []; this.earlyBot = []; this.ratedNow = false; this.agentSpoke = false;
    this.save();
    this.logEl.textContent = '';
    this.ratingEl.hidden = true; this.ratingEl.textContent = '';
    this.form.hidden = false;
    this.clearError();
    this.started = false;
    this.start();
    this.input.focus();
  };

  /* ---------- public entry points ---------- */

  function mount(target, opts) {
    opts = opts || {};
    if (!opts.key) throw new Error('Parley.mount: a channel key is required');
    var host = target;
    if (!host) {
      host = document.createElement('div');
      host.setAttribute('data-parley-widget', '');
      document.body.appendChild(host);
    }
    if (opts.inline && !host.style.height) host.style.display = 'block';
    var chat = new Chat(host, opts);
    if (opts.inline || opts.open) chat.open();
    return chat;
  }

  var apiDefault = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var Parley = window.Parley = window.Parley || {};
  Parley.mount = function (target, opts) {
    opts = Object.assign({ api: apiDefault }, opts || {});
    return mount(target, opts);
  };
  Parley.strings = STRINGS;

  if (script && script.getAttribute('data-parley-key')) {
    var auto = function () {
      Parley.widget = Parley.mount(null, {
        key: script.getAttribute('data-parley-key'),
        api: script.getAttribute('data-parley-api') || apiDefault,
        language: script.getAttribute('data-parley-language'),
        open: script.getAttribute('data-parley-open') === 'true'
      });
    };
    if (document.body) auto(); else document.addEventListener('DOMContentLoaded', auto);
  }
})();
