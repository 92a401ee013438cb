// The JSON shapes of messages, blocks and forms as the host serves them
// (host/src/http/render.rs, views.rs, respond.rs). The OpenAPI document
// types blocks' inner objects loosely (`Object`), so they are spelled out here.

export interface Field {
  name: string;
  value: string;
}

export interface Choice {
  value: string;
  label: string;
}

export interface Confirm {
  title: string;
  text: string;
  confirm_label: string;
  deny_label: string;
}

export type ElementView =
  | { type: "button"; label: string; style: string; confirm?: Confirm | null; ref: string }
  | { type: "select"; placeholder: string; options: Choice[]; ref: string }
  | { type: "member_picker"; placeholder: string; ref: string };

export interface DateValue {
  year: number;
  month: number;
  day: number;
}

export type InputKind =
  | {
      type: "text";
      min_length?: number | null;
      max_length?: number | null;
      multiline?: boolean;
      placeholder?: string | null;
      initial?: string | null;
    }
  | {
      type: "number";
      integer?: boolean;
      decimals?: number;
      min?: string | null;
      max?: string | null;
      initial?: string | null;
    }
  | { type: "date"; min?: DateValue | null; max?: DateValue | null; initial?: DateValue | null }
  | { type: "date_time"; min?: number | null; max?: number | null; initial?: number | null }
  | { type: "choice"; options: Choice[]; multiple?: boolean; initial?: string[] }
  | { type: "member"; initial?: string | null }
  | { type: "checkbox"; initial?: boolean }
  /**
   * Files chosen from the member's device: their value is the ids of files
   * uploaded first (`POST /v1/groups/{gid}/files`). `accept`: content types
   * ("application/pdf") or families ending in `/` ("image/"); empty: any.
   */
  | { type: "file"; max_files?: number; accept?: string[] };

export interface Input {
  id: string;
  label: string;
  hint?: string | null;
  required?: boolean;
  kind: InputKind;
}

export type BlockView =
  | { type: "text"; text: string }
  | { type: "header"; text: string }
  | { type: "fields"; fields: Field[] }
  | { type: "divider" }
  | { type: "context"; text: string }
  | { type: "actions"; elements: ElementView[] }
  | { type: "input"; input: Input }
  | { type: "file"; file: FileRef }
  | { type: "image"; file: FileRef; alt?: string };

/** A file a block shows. `deleted`: it is gone (shown as such, no link). */
export interface FileRef {
  id: string;
  name: string;
  content_type: string;
  size: number;
  /** `/v1/groups/{gid}/files/{id}/content` (needs the bearer header). */
  url: string;
  deleted?: boolean;
}

/** A stored file (`POST /v1/groups/{gid}/files`, `GET .../files/{fid}`). */
export interface FileView {
  id: string;
  group_id: string;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  /** The member who uploaded it (null: an app's file). */
  uploaded_by: string | null;
  /** The app installation whose file it is (null: a member's upload). */
  installation_id: string | null;
  created_at: number;
  url: string;
  /** A safe image type the browser may show. */
  inline: boolean;
}

/** The group's file usage (`GET /v1/groups/{gid}/files/usage`, owners and admins). */
export interface FileUsage {
  used_bytes: number;
  quota_bytes: number;
  file_count: number;
  members: { bytes: number; files: number };
  apps: { installation_id: string; app: string; title: string; bytes: number; files: number; quota_bytes: number }[];
}

/** A 0.1 card: title, body, fields and buttons (each with its `ref`). */
export interface LegacyCard {
  title?: string;
  body?: string | null;
  fields?: { name?: string; label?: string; value?: string }[];
  buttons?: { label: string; action?: string; ref: string }[];
}

export interface MessageView {
  id: number;
  group_id: string;
  user_id?: string | null;
  installation_id?: string | null;
  text?: string | null;
  card?: LegacyCard | null;
  blocks: BlockView[];
  private: boolean;
  visible_to?: string | null;
  created_at: number;
  updated_at?: number | null;
}

export interface DirectView {
  id: number;
  group_id: string;
  installation_id: string;
  text?: string | null;
  card?: LegacyCard | null;
  blocks: BlockView[];
  created_at: number;
}

export interface FormView {
  id: string;
  title: string;
  blocks: BlockView[];
  submit_label: string;
  step: number;
  expires_at: number;
}

export type ResponseView =
  | { type: "none" }
  | { type: "post"; message: MessageView }
  | { type: "private"; message: MessageView }
  | { type: "form"; form: FormView };

export interface Acted {
  message?: MessageView | null;
  response: ResponseView;
  data?: unknown;
}

export interface Posted {
  messages: MessageView[];
  message: MessageView;
  response: ResponseView;
}

/** A command answered in a group (`GET /v1/groups/{gid}/commands`). */
export interface CommandView {
  command: string;
  description: string;
  app: string;
  installation_id: string;
  version: string;
  enabled: boolean;
  /** Its typed options, in the order members type them. */
  options?: { name: string; description: string; required?: boolean; kind: string }[];
}

export interface MemberView {
  user_id: string;
  /** The handle. */
  name: string;
  /** The name people see (the handle when unset). */
  display_name?: string;
  role: string;
  joined_at: number;
}

export interface InstallationSummary {
  id: string;
  app: string;
}
