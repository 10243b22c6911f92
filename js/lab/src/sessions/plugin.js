// @ts-check
/**
 * The "Chat sessions" sidebar and conversation tabs: commands (palette, shortcut), layout
 * restoration and settings.
 */
import { ILayoutRestorer, LabShell } from '@jupyterlab/application';
import { Dialog, ICommandPalette, InputDialog, MainAreaWidget, WidgetTracker, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';

import '../../style/index.css';
import { ASK_EVENT } from '@jupyter-opencode/chat/client.js';
import { activateOneClick, panelChat } from '../oneclick.js';
import { OpencodeApi } from './api.js';
import { CompareView } from './compare.js';
import { ExportBody } from './dialogs.js';
import { SessionsSidebar, tagsOf } from './sidebar.js';
import { StreamConnection } from './stream.js';
import { ConversationTab, newSessionId } from './tab.js';

/**
 * @typedef {import('@jupyterlab/application').JupyterFrontEnd} JupyterFrontEnd
 * @typedef {import('./api.js').Session} Session
 */

export const PLUGIN_ID = 'jupyter-opencode:sessions';
const CATEGORY = 'opencode';

export const CommandIDs = {
  newChat: 'jupyter-opencode:new-chat',
  newFromTemplate: 'jupyter-opencode:new-from-template',
  open: 'jupyter-opencode:open',
  openSessions: 'jupyter-opencode:open-sessions',
  search: 'jupyter-opencode:search',
  focusComposer: 'jupyter-opencode:focus-composer',
  export: 'jupyter-opencode:export',
  rename: 'jupyter-opencode:rename',
  star: 'jupyter-opencode:star',
  archive: 'jupyter-opencode:archive',
  tags: 'jupyter-opencode:tags',
  fork: 'jupyter-opencode:fork',
  duplicate: 'jupyter-opencode:duplicate',
  delete: 'jupyter-opencode:delete',
  compare: 'jupyter-opencode:compare'
};

const CHAT_ICON = new LabIcon({
  name: 'jupyter-opencode:chat',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">' +
    '<path class="jp-icon3" fill="#616161" d="M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm2 5v2h12V8H6zm0 4v2h8v-2H6z"/>' +
    '</svg>'
});

/**
 * Save a Blob as a download.
 * @param {Blob} blob
 * @param {string} filename
 */
function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** @type {import('@jupyterlab/application').JupyterFrontEndPlugin<void>} */
export const sessionsPlugin = {
  id: PLUGIN_ID,
  description: 'The Chat sessions sidebar and conversations in main-area tabs.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer, ICommandPalette, ISettingRegistry],
  activate: (
    /** @type {JupyterFrontEnd} */ app,
    /** @type {INotebookTracker} */ notebooks,
    /** @type {ILayoutRestorer | null} */ restorer,
    /** @type {ICommandPalette | null} */ palette,
    /** @type {ISettingRegistry | null} */ settingRegistry
  ) => {
    const api = new OpencodeApi(app.serviceManager.serverSettings);
    const stream = new StreamConnection(app.serviceManager.serverSettings);
    const settings = { pageSize: 50, autoContext: false, exportFormat: 'md' };
    const { commands, shell } = app;
    const execute = (/** @type {string} */ id, /** @type {any} */ args) => commands.execute(id, args);
    const notebook = () => notebooks.currentWidget;

    /** @type {WidgetTracker<MainAreaWidget<ConversationTab>>} */
    const tabs = new WidgetTracker({ namespace: 'jupyter-opencode-chat' });
    const sidebar = new SessionsSidebar({
      api,
      execute,
      notebookPath: () => notebooks.currentWidget?.context.path ?? '',
      pageSize: () => settings.pageSize
    });
    sidebar.title.icon = CHAT_ICON;
    shell.add(sidebar, 'left', { rank: 600 });
    restorer?.add(sidebar, sidebar.id);

    /**
     * The open tab of a session, if any.
     * @param {string} sid
     */
    const findTab = sid => tabs.find(w => w.content.sessionId === sid);

    /**
     * Open (or activate) a session's tab.
     * @param {string} sid
     * @param {{message?: string, template?: string, prompt?: string, context?: any[],
     *   notebookPath?: string, beside?: string}} [extra]
     */
    const openTab = async (sid, extra = {}) => {
      let widget = findTab(sid);
      if (!widget) {
        const path = extra.notebookPath;
        const content = new ConversationTab({
          api, stream, sessionId: sid, execute, notebookPath: path,
          notebook: () => (path && notebooks.find(p => p.context.path === path)) || notebook(),
          template: extra.template, autoContext: settings.autoContext, context: extra.context,
          onCreated: () => void sidebar.refresh(), download
        });
        widget = new MainAreaWidget({ content });
        widget.id = content.id;
        widget.addClass('jo-tab-area');
        widget.title.icon = CHAT_ICON;
        content.title.changed.connect(() => {
          widget && (widget.title.label = content.title.label, widget.title.caption = content.title.caption);
        });
        void tabs.add(widget);
        // Jupyter Notebook's main area holds the notebook alone: a tab goes beside it.
        const place = extra.beside ? { mode: 'split-right', ref: extra.beside } : { mode: 'tab-after' };
        shell.add(widget, shell instanceof LabShell ? 'main' : 'right', /** @type {any} */ (place));
      }
      shell.activateById(widget.id);
      if (extra.message) {
        widget.content.reveal(extra.message);
      }
      if (extra.prompt) {
        await widget.content.loaded;
        await widget.content.submit(extra.prompt);
      }
      return widget;
    };

    /**
     * A question from a notebook (Explain, Fix, Ask about this): to the chat panel shown in it
     * that was used last, else to a tab for that notebook, opened if needed.
     * @param {import('@jupyterlab/notebook').NotebookPanel} panel
     * @param {any[]} context
     * @param {string} text
     * @param {import('./context.js').ImageAttachment[]} [images] attached as images (plots)
     */
    const askInNotebook = async (panel, context, text, images = []) => {
      const detail = { context, text, images, handled: false };
      panelChat(panel)?.dispatchEvent(new CustomEvent(ASK_EVENT, { detail }));
      if (detail.handled) {
        return;
      }
      const path = panel.context.path;
      const open = tabs.find(w => w.content.notebookPath === path);
      const widget = open ?? await openTab(newSessionId(), { notebookPath: path, beside: panel.id });
      shell.activateById(widget.id);
      await widget.content.loaded;
      widget.content.client.ask(context, text, images);
    };
    activateOneClick(app, notebooks, askInNotebook, palette);

    /** @param {any} args */
    const sessionOf = args => /** @type {Session | undefined} */ (args.session);

    commands.addCommand(CommandIDs.newChat, {
      label: 'New Chat',
      caption: 'Start a new opencode chat in a tab',
      icon: CHAT_ICON,
      execute: args => openTab(newSessionId(), {
        prompt: typeof args.prompt === 'string' ? args.prompt : undefined,
        context: Array.isArray(args.context) ? [...args.context] : undefined
      })
    });
    commands.addCommand(CommandIDs.open, {
      label: args => (args.id ? 'Open Chat Session' : 'Open Chat Session…'),
      execute: async args => {
        let id = typeof args.id === 'string' ? args.id : '';
        if (!id) {
          const { sessions } = await api.sessions({ limit: 100 });
          const labels = sessions.map(s => `${s.title || 'Untitled'} (${s.id.slice(0, 8)})`);
          const picked = await InputDialog.getItem({ title: 'Open chat session', items: labels });
          if (!picked.button.accept || picked.value === null) {
            return;
          }
          id = sessions[labels.indexOf(picked.value)]?.id ?? '';
        }
        if (id) {
          return openTab(id, { message: typeof args.message === 'string' ? args.message : undefined });
        }
      }
    });
    commands.addCommand(CommandIDs.openSessions, {
      label: 'Open Chat Sessions',
      caption: 'Show the Chat sessions sidebar',
      execute: () => shell.activateById(sidebar.id)
    });
    commands.addCommand(CommandIDs.search, {
      label: 'Search Chat Sessions',
      execute: () => {
        shell.activateById(sidebar.id);
        sidebar.focusSearch();
      }
    });
    commands.addCommand(CommandIDs.focusComposer, {
      label: 'Focus the Chat Composer',
      caption: 'Focus the message box of the current chat tab, else the sidebar’s',
      execute: () => {
        const current = shell.currentWidget;
        const tab = current && tabs.has(/** @type {any} */ (current)) ? tabs.currentWidget : null;
        if (tab) {
          tab.content.focusComposer();
        } else {
          shell.activateById(sidebar.id);
          sidebar.focusAsk();
        }
      }
    });
    commands.addCommand(CommandIDs.newFromTemplate, {
      label: 'New Chat from Template…',
      execute: async () => {
        let names = [];
        try {
          names = (await api.templates()).map(t => t.name);
        } catch (error) {
          await showDialog({ title: 'Templates', body: `Templates are not available: ${String(/** @type {Error} */ (error).message)}`, buttons: [Dialog.okButton()] });
          return;
        }
        if (!names.length) {
          await showDialog({ title: 'Templates', body: 'No templates yet.', buttons: [Dialog.okButton()] });
          return;
        }
        const picked = await InputDialog.getItem({ title: 'New chat from template', items: names });
        if (picked.button.accept && picked.value) {
          await openTab(newSessionId(), { template: picked.value });
        }
      }
    });
    commands.addCommand(CommandIDs.export, {
      label: 'Export Chat Session…',
      execute: async args => {
        const id = typeof args.id === 'string' ? args.id : tabs.currentWidget?.content.sessionId;
        if (!id) {
          return;
        }
        const body = new ExportBody(typeof args.format === 'string' ? args.format : settings.exportFormat);
        const result = await showDialog({
          title: 'Export chat session',
          body,
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Export' })]
        });
        if (!result.button.accept || !result.value) {
          return;
        }
        try {
          const { blob, filename } = await api.exportFile(id, result.value);
          download(blob, filename);
        } catch (error) {
          await showDialog({ title: 'Export failed', body: String(/** @type {Error} */ (error).message), buttons: [Dialog.okButton()] });
        }
      }
    });
    commands.addCommand(CommandIDs.rename, {
      label: 'Rename Chat Session…',
      execute: async args => {
        const session = sessionOf(args);
        const picked = await InputDialog.getText({ title: 'Rename chat session', text: session?.title ?? '', label: 'Title' });
        if (!picked.button.accept || !picked.value?.trim()) {
          return false;
        }
        const updated = await api.patch(String(args.id), { title: picked.value.trim() });
        findTab(String(args.id))?.content.setTitle(updated.title);
        return true;
      }
    });
    commands.addCommand(CommandIDs.star, {
      label: 'Star Chat Session',
      execute: args => api.patch(String(args.id), { starred: !isOn(sessionOf(args)?.starred) })
    });
    commands.addCommand(CommandIDs.archive, {
      label: 'Archive Chat Session',
      execute: args => api.patch(String(args.id), { archived: !isOn(sessionOf(args)?.archived) })
    });
    commands.addCommand(CommandIDs.tags, {
      label: 'Tag Chat Session…',
      execute: async args => {
        const session = sessionOf(args);
        const picked = await InputDialog.getText({
          title: 'Tags', label: 'Tags, separated by commas', text: session ? tagsOf(session).join(', ') : ''
        });
        if (!picked.button.accept || picked.value === null) {
          return false;
        }
        const tags = picked.value.split(',').map(t => t.trim()).filter(Boolean);
        return api.patch(String(args.id), { tags });
      }
    });
    commands.addCommand(CommandIDs.fork, {
      label: 'Fork Chat Session',
      caption: 'Continue in a new branch holding a copy of this conversation',
      execute: async args => {
        const { session } = await api.fork(String(args.id));
        await openTab(session.id);
        return true;
      }
    });
    commands.addCommand(CommandIDs.duplicate, {
      label: 'Duplicate Chat Session',
      execute: async args => {
        const { session } = await api.fork(String(args.id));
        const title = `${sessionOf(args)?.title || 'Untitled'} (copy)`;
        await api.patch(session.id, { title });
        return true;
      }
    });
    commands.addCommand(CommandIDs.delete, {
      label: 'Delete Chat Session…',
      execute: async args => {
        const session = sessionOf(args);
        const result = await showDialog({
          title: 'Delete chat session?',
          body: `“${session?.title || 'Untitled'}” and all its messages will be deleted. This cannot be undone.`,
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
        });
        if (!result.button.accept) {
          return false;
        }
        await api.remove(String(args.id));
        findTab(String(args.id))?.dispose();
        return true;
      }
    });
    commands.addCommand(CommandIDs.compare, {
      label: 'Compare Chat Sessions',
      execute: args => {
        const ids = /** @type {string[]} */ (Array.isArray(args.ids) ? args.ids : []);
        if (ids.length !== 2) {
          return;
        }
        const content = new CompareView(api, ids[0], ids[1]);
        const widget = new MainAreaWidget({ content });
        widget.id = content.id;
        widget.title.icon = CHAT_ICON;
        content.title.changed.connect(() => (widget.title.label = content.title.label));
        shell.add(widget, 'main', { mode: 'split-right' });
        shell.activateById(widget.id);
      }
    });

    for (const command of [CommandIDs.newChat, CommandIDs.openSessions, CommandIDs.search, CommandIDs.export,
      CommandIDs.open, CommandIDs.newFromTemplate, CommandIDs.focusComposer]) {
      palette?.addItem({ command, category: CATEGORY });
    }
    app.contextMenu.addItem({ command: CommandIDs.export, selector: '.jo-tab-area', rank: 10 });

    if (restorer) {
      void restorer.restore(tabs, {
        command: CommandIDs.open,
        args: widget => ({ id: widget.content.sessionId }),
        name: widget => widget.content.sessionId
      });
    }

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(loaded => {
        const update = () => {
          settings.pageSize = Number(loaded.get('pageSize').composite) || 50;
          settings.autoContext = Boolean(loaded.get('autoContext').composite);
          settings.exportFormat = String(loaded.get('exportFormat').composite || 'md');
        };
        update();
        loaded.changed.connect(update);
      }, error => console.warn('jupyter-opencode: settings not loaded', error));
    }
  }
};

/** @param {unknown} flag */
function isOn(flag) {
  return flag === true || flag === 1;
}
