declare module 'alga:extension/types' {
  export interface ContextData {
    requestId?: string,
    tenantId: string,
    extensionId: string,
    installId?: string,
    versionId?: string,
  }
  /**
   * # Variants
   * 
   * ## `"missing"`
   * 
   * ## `"denied"`
   * 
   * ## `"expired"`
   * 
   * ## `"internal"`
   */
  export type SecretError = 'missing' | 'denied' | 'expired' | 'internal';
  export interface HttpHeader {
    name: string,
    value: string,
  }
  export interface HttpRequest {
    method: string,
    url: string,
    headers: Array<HttpHeader>,
    body?: Uint8Array,
  }
  export interface HttpResponse {
    status: number,
    headers: Array<HttpHeader>,
    body?: Uint8Array,
  }
  /**
   * # Variants
   * 
   * ## `"invalid-url"`
   * 
   * ## `"not-allowed"`
   * 
   * ## `"transport"`
   * 
   * ## `"internal"`
   */
  export type HttpError = 'invalid-url' | 'not-allowed' | 'transport' | 'internal';
  /**
   * # Variants
   * 
   * ## `"missing"`
   * 
   * ## `"conflict"`
   * 
   * ## `"denied"`
   * 
   * ## `"internal"`
   */
  export type StorageError = 'missing' | 'conflict' | 'denied' | 'internal';
  export interface StorageEntry {
    namespace: string,
    key: string,
    value: Uint8Array,
    revision?: bigint,
  }
  /**
   * # Variants
   * 
   * ## `"route-not-found"`
   * 
   * ## `"denied"`
   * 
   * ## `"bad-request"`
   * 
   * ## `"internal"`
   */
  export type ProxyError = 'route-not-found' | 'denied' | 'bad-request' | 'internal';
  export interface UserData {
    tenantId: string,
    clientName: string,
    userId: string,
    userEmail: string,
    userName: string,
    userType: string,
  }
  export interface UserDataV2 {
    tenantId: string,
    clientName: string,
    userId: string,
    userEmail: string,
    userName: string,
    userType: string,
    clientId?: string,
    additionalFields: Array<[string, string]>,
  }
  /**
   * # Variants
   * 
   * ## `"not-available"`
   * 
   * ## `"not-allowed"`
   */
  export type UserError = 'not-available' | 'not-allowed';
  /**
   * # Variants
   * 
   * ## `"not-found"`
   * 
   * ## `"validation-failed"`
   * 
   * ## `"quota-exceeded"`
   * 
   * ## `"denied"`
   * 
   * ## `"internal"`
   */
  export type SchedulerError = 'not-found' | 'validation-failed' | 'quota-exceeded' | 'denied' | 'internal';
  export interface ScheduleInfo {
    id: string,
    endpointPath: string,
    endpointMethod: string,
    name?: string,
    cron: string,
    timezone: string,
    enabled: boolean,
    /**
     * JSON-encoded payload.
     */
    payload?: string,
    lastRunAt?: string,
    lastRunStatus?: string,
    lastError?: string,
    createdAt?: string,
  }
  export interface EndpointInfo {
    id: string,
    method: string,
    path: string,
    handler: string,
    schedulable: boolean,
  }
  export interface CreateScheduleInput {
    endpoint: string,
    cron: string,
    timezone?: string,
    enabled?: boolean,
    name?: string,
    /**
     * JSON-encoded payload (object or array).
     */
    payload?: string,
  }
  export interface CreateScheduleResult {
    success: boolean,
    scheduleId?: string,
    error?: string,
    /**
     * JSON-encoded map of field -> message.
     */
    fieldErrors?: string,
  }
  export interface UpdateScheduleInput {
    endpoint?: string,
    cron?: string,
    timezone?: string,
    enabled?: boolean,
    name?: string,
    /**
     * JSON-encoded payload; an empty string clears it.
     */
    payload?: string,
  }
  export interface UpdateScheduleResult {
    success: boolean,
    error?: string,
    /**
     * JSON-encoded map of field -> message.
     */
    fieldErrors?: string,
  }
  export interface DeleteScheduleResult {
    success: boolean,
    error?: string,
  }
  /**
   * # Variants
   * 
   * ## `"percentage"`
   * 
   * ## `"fixed"`
   */
  export type DiscountType = 'percentage' | 'fixed';
  export interface ManualInvoiceItemInput {
    serviceId: string,
    quantity: number,
    description: string,
    rate: number,
    isDiscount?: boolean,
    discountType?: DiscountType,
    appliesToItemId?: string,
    appliesToServiceId?: string,
  }
  export interface CreateManualInvoiceInput {
    clientId: string,
    items: Array<ManualInvoiceItemInput>,
    invoiceDate?: string,
    dueDate?: string,
    poNumber?: string,
  }
  export interface CreateManualInvoiceResult {
    success: boolean,
    invoiceId?: string,
    invoiceNumber?: string,
    status?: string,
    subtotal?: number,
    tax?: number,
    total?: number,
    error?: string,
    fieldErrors?: string,
  }
  /**
   * # Variants
   * 
   * ## `"not-allowed"`
   * 
   * ## `"invalid-input"`
   * 
   * ## `"internal"`
   */
  export type ClientReadError = 'not-allowed' | 'invalid-input' | 'internal';
  export interface ClientSummary {
    clientId: string,
    clientName: string,
    clientType?: string,
    isInactive: boolean,
    defaultCurrencyCode?: string,
    accountManagerId?: string,
    accountManagerName?: string,
    billingEmail?: string,
  }
  export interface ClientsListInput {
    search?: string,
    includeInactive?: boolean,
    page?: number,
    pageSize?: number,
  }
  export interface ClientsListResult {
    items: Array<ClientSummary>,
    totalCount: number,
    page: number,
    pageSize: number,
  }
  /**
   * # Variants
   * 
   * ## `"service"`
   * 
   * ## `"product"`
   */
  export type ServiceItemKind = 'service' | 'product';
  /**
   * # Variants
   * 
   * ## `"fixed"`
   * 
   * ## `"hourly"`
   * 
   * ## `"usage"`
   */
  export type ServiceBillingMethod = 'fixed' | 'hourly' | 'usage';
  /**
   * # Variants
   * 
   * ## `"not-allowed"`
   * 
   * ## `"invalid-input"`
   * 
   * ## `"internal"`
   */
  export type ServiceReadError = 'not-allowed' | 'invalid-input' | 'internal';
  export interface ServiceSummary {
    serviceId: string,
    serviceName: string,
    itemKind: ServiceItemKind,
    billingMethod: ServiceBillingMethod,
    serviceTypeId?: string,
    serviceTypeName?: string,
    defaultRate: number,
    unitOfMeasure: string,
    isActive: boolean,
    sku?: string,
  }
  export interface ServicesListInput {
    search?: string,
    itemKind?: ServiceItemKind,
    isActive?: boolean,
    billingMethod?: ServiceBillingMethod,
    page?: number,
    pageSize?: number,
  }
  export interface ServicesListResult {
    items: Array<ServiceSummary>,
    totalCount: number,
    page: number,
    pageSize: number,
  }
  export interface ExecuteRequest {
    context: ContextData,
    http: HttpRequest,
  }
  export interface ExecuteResponse {
    status: number,
    headers: Array<HttpHeader>,
    body?: Uint8Array,
  }
}
