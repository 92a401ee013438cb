/** @module Interface qun:app/blocks@0.2.0 **/
export interface Field {
  name: string,
  value: string,
}
/**
 * # Variants
 * 
 * ## `"default"`
 * 
 * ## `"primary"`
 * 
 * ## `"danger"`
 */
export type ButtonStyle = 'default' | 'primary' | 'danger';
export interface Confirm {
  title: string,
  text: string,
  confirmLabel: string,
  denyLabel: string,
}
export interface Button {
  label: string,
  action: string,
  payload: string,
  style: ButtonStyle,
  confirm?: Confirm,
}
export interface Choice {
  value: string,
  label: string,
}
export interface SelectMenu {
  action: string,
  payload: string,
  placeholder: string,
  options: Array<Choice>,
}
export interface MemberPicker {
  action: string,
  payload: string,
  placeholder: string,
}
export type Element = ElementButton | ElementSelect | ElementMemberPicker;
export interface ElementButton {
  tag: 'button',
  val: Button,
}
export interface ElementSelect {
  tag: 'select',
  val: SelectMenu,
}
export interface ElementMemberPicker {
  tag: 'member-picker',
  val: MemberPicker,
}
export interface TextInput {
  minLength?: number,
  maxLength?: number,
  multiline: boolean,
  placeholder?: string,
  initial?: string,
}
export interface NumberInput {
  integer: boolean,
  decimals: number,
  min?: string,
  max?: string,
  initial?: string,
}
export interface Date {
  year: number,
  month: number,
  day: number,
}
export interface DateInput {
  min?: Date,
  max?: Date,
  initial?: Date,
}
export type Timestamp = import('./qun-app-types.js').Timestamp;
export interface DateTimeInput {
  min?: Timestamp,
  max?: Timestamp,
  initial?: Timestamp,
}
export interface ChoiceInput {
  options: Array<Choice>,
  multiple: boolean,
  initial: Array<string>,
}
export type MemberId = import('./qun-app-types.js').MemberId;
export interface MemberInput {
  initial?: MemberId,
}
export interface CheckboxInput {
  initial: boolean,
}
export interface FileInput {
  maxFiles: number,
  accept: Array<string>,
}
export type InputKind = InputKindText | InputKindNumber | InputKindDate | InputKindDateTime | InputKindChoice | InputKindMember | InputKindCheckbox | InputKindFile;
export interface InputKindText {
  tag: 'text',
  val: TextInput,
}
export interface InputKindNumber {
  tag: 'number',
  val: NumberInput,
}
export interface InputKindDate {
  tag: 'date',
  val: DateInput,
}
export interface InputKindDateTime {
  tag: 'date-time',
  val: DateTimeInput,
}
export interface InputKindChoice {
  tag: 'choice',
  val: ChoiceInput,
}
export interface InputKindMember {
  tag: 'member',
  val: MemberInput,
}
export interface InputKindCheckbox {
  tag: 'checkbox',
  val: CheckboxInput,
}
export interface InputKindFile {
  tag: 'file',
  val: FileInput,
}
export interface Input {
  id: string,
  label: string,
  hint?: string,
  required: boolean,
  kind: InputKind,
}
export interface Image {
  file: string,
  alt: string,
}
export type Block = BlockText | BlockHeader | BlockFields | BlockDivider | BlockContext | BlockActions | BlockInput | BlockFile | BlockImage;
export interface BlockText {
  tag: 'text',
  val: string,
}
export interface BlockHeader {
  tag: 'header',
  val: string,
}
export interface BlockFields {
  tag: 'fields',
  val: Array<Field>,
}
export interface BlockDivider {
  tag: 'divider',
}
export interface BlockContext {
  tag: 'context',
  val: string,
}
export interface BlockActions {
  tag: 'actions',
  val: Array<Element>,
}
export interface BlockInput {
  tag: 'input',
  val: Input,
}
export interface BlockFile {
  tag: 'file',
  val: string,
}
export interface BlockImage {
  tag: 'image',
  val: Image,
}
export interface Message {
  text: string,
  blocks: Array<Block>,
}
export type Value = ValueText | ValueInteger | ValueDecimal | ValueDate | ValueDateTime | ValueChoices | ValueMember | ValueCheckbox | ValueFiles;
export interface ValueText {
  tag: 'text',
  val: string,
}
export interface ValueInteger {
  tag: 'integer',
  val: bigint,
}
export interface ValueDecimal {
  tag: 'decimal',
  val: string,
}
export interface ValueDate {
  tag: 'date',
  val: Date,
}
export interface ValueDateTime {
  tag: 'date-time',
  val: Timestamp,
}
export interface ValueChoices {
  tag: 'choices',
  val: Array<string>,
}
export interface ValueMember {
  tag: 'member',
  val: MemberId,
}
export interface ValueCheckbox {
  tag: 'checkbox',
  val: boolean,
}
export interface ValueFiles {
  tag: 'files',
  val: Array<string>,
}
export interface NamedValue {
  name: string,
  value: Value,
}
export interface Form {
  title: string,
  blocks: Array<Block>,
  submitLabel: string,
  callback: string,
  state: string,
}
export interface FieldError {
  input: string,
  message: string,
}
export type Response = ResponseNone | ResponsePost | ResponsePrivate | ResponseForm | ResponseFieldErrors;
export interface ResponseNone {
  tag: 'none',
}
export interface ResponsePost {
  tag: 'post',
  val: Message,
}
export interface ResponsePrivate {
  tag: 'private',
  val: Message,
}
export interface ResponseForm {
  tag: 'form',
  val: Form,
}
export interface ResponseFieldErrors {
  tag: 'field-errors',
  val: Array<FieldError>,
}
