/*  dom - a tiny element builder

    h('td', { class: 'num' }, '12') builds elements with text children only
    (never innerHTML), so nothing pushed by the server can inject markup.  */

export function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
        if (value === null || value === undefined || value === false) continue;
        if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
        else if (name === 'class') el.className = value;
        else el.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
        if (child === null || child === undefined || child === false) continue;
        el.append(child instanceof Node ? child : String(child));
    }
    return el;
}

export function byId(id) {
    return document.getElementById(id);
}

//  Sets an element's text only when it changed (keeps the DOM quiet).
export function setText(el, value) {
    if (el && el.textContent !== value) el.textContent = value;
}

export function replaceRows(tbody, rows, emptyText, columns) {
    if (!rows.length) rows = [h('tr', { class: 'empty' }, h('td', { colspan: columns }, emptyText))];
    tbody.replaceChildren(...rows);
}
