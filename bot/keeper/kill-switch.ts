// The kill switch: while it is engaged the keeper submits nothing, but it keeps watching, calibrating
// and recording (so an operator sees what it would have done). Engaged while the kill file exists,
// or after SIGUSR2 toggles it on (SIGUSR2 again toggles it off; the file always wins).
import { existsSync } from "node:fs";

export interface KillSwitchStatus {
  engaged: boolean;
  file: string;
  fileExists: boolean;
  /** Toggled on by SIGUSR2 (or toggle()). */
  signalEngaged: boolean;
}

export class KillSwitch {
  readonly file: string;
  #signalEngaged = false;
  #listeners = new Set<(status: KillSwitchStatus) => void>();

  constructor(file: string) {
    this.file = file;
  }

  /** True while submissions are stopped. Reads the file each time (one stat call). */
  engaged(): boolean {
    return this.#signalEngaged || existsSync(this.file);
  }

  submissionsAllowed(): boolean {
    return !this.engaged();
  }

  status(): KillSwitchStatus {
    const fileExists = existsSync(this.file);
    return { engaged: fileExists || this.#signalEngaged, file: this.file, fileExists, signalEngaged: this.#signalEngaged };
  }

  /** Flips the signal half of the switch (what SIGUSR2 does). */
  toggle(): KillSwitchStatus {
    this.#signalEngaged = !this.#signalEngaged;
    const s = this.status();
    for (const l of this.#listeners) l(s);
    return s;
  }

  /** Called after every toggle (for logging). Returns an unsubscribe function. */
  onToggle(listener: (status: KillSwitchStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Makes `signal` (default SIGUSR2) toggle the switch. Returns the uninstaller. */
  installSignalHandler(signal: NodeJS.Signals = "SIGUSR2"): () => void {
    const handler = (): void => { this.toggle(); };
    process.on(signal, handler);
    return () => { process.off(signal, handler); };
  }
}
